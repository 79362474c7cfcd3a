// Test data made here: card numbers get a computed Luhn check digit, nothing comes from the datasets.
export function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) {
    const s = body + d;
    let sum = 0;
    for (let i = 0; i < s.length; i++) {
      let x = Number(s[s.length - 1 - i]);
      if (i % 2 === 1) {
        x *= 2;
        if (x > 9) x -= 9;
      }
      sum += x;
    }
    if (sum % 10 === 0) return s;
  }
  throw new Error('unreachable');
}
/** The same number with a wrong check digit. */
export const breakLuhn = (pan: string) => pan.slice(0, -1) + ((Number(pan.at(-1)) + 1) % 10);
export const group4 = (pan: string, sep = ' ') => pan.match(/.{1,4}/g)!.join(sep);
