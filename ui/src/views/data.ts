// The broker's topics with their subscriptions' progress, and the locks held now.
import { get, type Lock, type Topic } from "../api";
import { h } from "../dom";
import { bytes } from "../format";
import { card, table } from "../table";

export async function data(): Promise<HTMLElement[]> {
  const [topics, locks] = await Promise.all([get<Topic[]>("/api/v1/topics"), get<Lock[]>("/api/v1/locks")]);
  const topicRows = topics.flatMap((t) => [
    h(
      "tr",
      { "data-topic": t.topic },
      h("td", {}, h("b", {}, t.topic)),
      h("td", { class: "num" }, t.messages),
      h("td", { class: "num" }, `${t.first_offset}–${t.next_offset}`),
      h("td", { class: "num" }, bytes(t.bytes)),
      h("td", { colspan: 5, class: "muted" }, t.subscriptions.length ? "" : "no subscriptions"),
    ),
    ...t.subscriptions.map((sub) =>
      h(
        "tr",
        { class: "sub-row" },
        h("td", { colspan: 4, class: "muted" }, `↳ ${sub.service}`),
        h("td", { class: "num" + (sub.lag > 0 ? " warn-text" : "") }, sub.lag),
        h("td", { class: "num" }, sub.in_flight),
        h("td", { class: "num" }, sub.delivered),
        h("td", { class: "num" }, sub.redelivered),
        h("td", { class: "num" + (sub.dead_lettered > 0 ? " bad-text" : "") }, sub.dead_lettered),
      ),
    ),
  ]);
  const lockRows = locks.map((l) =>
    h(
      "tr",
      { "data-lock": l.name },
      h("td", {}, l.name),
      h("td", { class: "num" }, l.holder ? l.holder.token : "–"),
      h("td", { class: "mono" }, l.holder ? l.holder.lease : "–"),
      h("td", {}, l.holder?.value ?? ""),
      h("td", { class: "num" }, l.waiters),
    ),
  );
  return [
    card(
      "topics",
      "Topics",
      table(
        ["topic", "messages", "offsets", "size", "lag", "in flight", "delivered", "redelivered", "dead-lettered"],
        topicRows,
        "no topics",
        (i) => i > 0,
      ),
    ),
    card("locks", "Locks", table(["lock", "token", "lease", "holder", "waiters"], lockRows, "no locks held")),
  ];
}
