const integer = new Intl.NumberFormat("en-US");

export const formatInt = (n: number) => integer.format(Math.round(n));

/** US dollars: whole cents when there are some, else enough digits to see a fraction of a cent. */
export function formatCost(dollars: number): string {
  if (dollars === 0) return "$0";
  if (dollars >= 0.01) return `$${dollars.toFixed(2)}`;
  return `$${dollars.toPrecision(2).replace(/0+$/, "")}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function relativeTime(time: number, now = Date.now()): string {
  const seconds = Math.round((now - time) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 7) return days === 1 ? "yesterday" : `${days} days ago`;
  return new Date(time).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

/** "meta-llama/Llama-3.2-90B-Vision-Instruct" → "Llama 3.2 90B Vision". */
export function modelLabel(model: string): string {
  const name = model.split("/").pop() ?? model;
  return name.replace(/-Instruct$/, "").replace(/^Llama-(\d+(?:\.\d+)?)-/, "Llama $1 ").replace(/-/g, " ");
}

export const plural = (n: number, word: string, many = `${word}s`) => `${formatInt(n)} ${n === 1 ? word : many}`;
