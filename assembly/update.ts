export function kinfStep(n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += Math.exp(<f64>i);
  return s;
}
