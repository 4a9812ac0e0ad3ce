// A browser-side cart: totals, coupon codes and persistence in localStorage.

export interface CartLine {
  sku: string;
  quantity: number;
  unitCents: number;
}

const STORAGE_KEY = "shop.cart";

export function lineTotal(line: CartLine): number {
  return line.quantity * line.unitCents;
}

export function applyCoupon(totalCents: number, code: string): number {
  if (code.startsWith("PCT")) {
    const percent = Number(code.slice(3));
    if (Number.isInteger(percent) && percent > 0 && percent <= 50) {
      return Math.round(totalCents * (1 - percent / 100));
    }
  } else if (code.startsWith("FLAT")) {
    return Math.max(0, totalCents - Number(code.slice(4)) * 100);
  }
  return totalCents;
}

export class Cart {
  private lines: CartLine[] = [];

  add(sku: string, unitCents: number, quantity = 1): void {
    const existing = this.lines.find((line) => line.sku === sku);
    if (existing) {
      existing.quantity += quantity;
    } else {
      this.lines.push({ sku, quantity, unitCents });
    }
  }

  totalCents(coupon?: string): number {
    const total = this.lines.reduce((sum, line) => sum + lineTotal(line), 0);
    return coupon ? applyCoupon(total, coupon) : total;
  }

  save(): void {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(this.lines));
  }

  static load(): Cart {
    const cart = new Cart();
    const raw = localStorage.getItem(STORAGE_KEY);
    cart.lines = raw ? (JSON.parse(raw) as CartLine[]) : [];
    return cart;
  }
}

export const formatCents = (cents: number): string => `${(cents / 100).toFixed(2)} EUR`;
