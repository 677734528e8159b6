/** The number of cores this process may use. */
import { availableParallelism } from "node:os";

export function availableCores(): number {
  return Math.max(1, availableParallelism());
}
