// Numbers as people read them.

export function rate(perSecond: number): string {
  if (perSecond >= 10_000) return (perSecond / 1000).toFixed(0) + "k";
  if (perSecond >= 1000) return (perSecond / 1000).toFixed(1) + "k";
  if (perSecond >= 10) return perSecond.toFixed(0);
  return perSecond.toFixed(perSecond === 0 ? 0 : 1);
}

export function micros(us: number): string {
  if (us >= 1_000_000) return (us / 1_000_000).toFixed(us >= 10_000_000 ? 0 : 1) + " s";
  if (us >= 1000) return (us / 1000).toFixed(us >= 10_000 ? 0 : 1) + " ms";
  return Math.round(us) + " µs";
}

export function percent(fraction: number): string {
  if (fraction === 0) return "0%";
  if (fraction < 0.001) return "<0.1%";
  return (fraction * 100).toFixed(fraction < 0.1 ? 1 : 0) + "%";
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return (unit === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + units[unit];
}

export function duration(seconds: number): string {
  if (seconds < 60) return Math.floor(seconds) + "s";
  if (seconds < 3600) return Math.floor(seconds / 60) + "m" + Math.floor(seconds % 60) + "s";
  if (seconds < 86400) return Math.floor(seconds / 3600) + "h" + Math.floor((seconds % 3600) / 60) + "m";
  return Math.floor(seconds / 86400) + "d" + Math.floor((seconds % 86400) / 3600) + "h";
}

export function clock(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
