// The dashboard's two building blocks: a titled card, and a table of rows under column titles
// (numeric columns right-aligned) that says so when it has no rows.
import { h, type Child } from "./dom";

export function card(id: string, title: string, ...content: (Child | Child[])[]): HTMLElement {
  return h("section", { class: "card", id }, h("h2", {}, title), ...content);
}

export function table(
  columns: string[],
  rows: HTMLElement[],
  empty: string,
  numeric: (column: number) => boolean = () => false,
): HTMLTableElement {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, columns.map((title, i) => h("th", { class: numeric(i) ? "num" : "" }, title)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, empty))),
  );
}
