// Money as the user reads it: never "$0.00" for a cost that is not zero.

/** A spent or saved amount: "$0", "$0.0042" below a cent, "$0.42", "$12.30". */
export function usd(value: number): string {
  if (!Number.isFinite(value) || value === 0) {
    return "$0";
  }
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  if (abs < 0.01) {
    return `${sign}$${abs.toFixed(4)}`;
  }
  return `${sign}$${abs.toFixed(2)}`;
}

/**
 * An estimate, the way the server's code action titles print it: "$0" when free, else
 * "~$" with three decimals, or four below a tenth of a cent.
 */
export function estimate(value: number): string {
  if (!Number.isFinite(value) || value <= 0) {
    return "$0";
  }
  return value >= 0.001 ? `~$${value.toFixed(3)}` : `~$${value.toFixed(4)}`;
}

/** A ratio as a whole percentage: 0.375 -> "38%". */
export function percent(ratio: number): string {
  if (!Number.isFinite(ratio)) {
    return "0%";
  }
  return `${Math.round(ratio * 100)}%`;
}
