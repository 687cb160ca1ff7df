// One colour per service, the same in every chart, graph and waterfall.
const palette = ["#2f6fde", "#d9822b", "#2a9d6f", "#b3467e", "#7656c9", "#8c6d1f", "#1f8ca8", "#c24a3b"];
const assigned = new Map<string, string>();

export function colorOf(service: string): string {
  let color = assigned.get(service);
  if (!color) {
    color = palette[assigned.size % palette.length];
    assigned.set(service, color);
  }
  return color;
}
