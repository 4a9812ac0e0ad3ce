import { Pool } from "pg";
import type { Order } from "./types";
import * as money from "./money";

export interface OrderRow {
  id: string;
  total_cents: number;
}

export class OrderStore {
  constructor(private readonly pool: Pool) {}

  /** Load one order by id. */
  async find(id: string): Promise<Order | null> {
    const result = await this.pool.query("SELECT id, total_cents FROM orders WHERE id = $1", [id]);
    if (result.rows.length === 0) {
      return null;
    }
    return this.toOrder(result.rows[0]);
  }

  async remove(id: string): Promise<void> {
    await this.pool.query("DELETE FROM orders WHERE id = $1", [id]);
  }

  private toOrder(row: OrderRow): Order {
    return { id: row.id, total: money.fromCents(row.total_cents) };
  }
}

export const describeOrder = (order: Order): string => `${order.id}: ${order.total}`;
