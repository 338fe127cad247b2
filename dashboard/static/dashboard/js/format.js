// Display formats. Amounts arrive as decimal strings ("4718239.58"); dates as ISO strings.

const LOCALE = "en-PH";

const pesos = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "PHP" });
const pesosCompact = new Intl.NumberFormat(LOCALE, {
  style: "currency",
  currency: "PHP",
  notation: "compact",
  maximumFractionDigits: 1,
});
const integer = new Intl.NumberFormat(LOCALE);
const day = new Intl.DateTimeFormat(LOCALE, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short" });

export function money(value) {
  if (value === null || value === undefined || value === "") return "—";
  const number = Number(value);
  return Number.isFinite(number) ? pesos.format(number) : String(value);
}

export function moneyCompact(value) {
  const number = Number(value);
  return Number.isFinite(number) ? pesosCompact.format(number) : "—";
}

export function count(value) {
  const number = Number(value);
  return Number.isFinite(number) ? integer.format(number) : "—";
}

export function date(value) {
  if (!value) return "—";
  const parsed = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) ? String(value) : day.format(parsed);
}

export function timestamp(value) {
  if (!value) return "";
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? String(value) : dateTime.format(parsed);
}

export function bytes(value) {
  const number = Number(value);
  if (!Number.isFinite(number)) return "";
  if (number < 1024) return `${number} B`;
  if (number < 1024 * 1024) return `${(number / 1024).toFixed(1)} KB`;
  return `${(number / 1024 / 1024).toFixed(1)} MB`;
}

/** Create an element: h("td", {class: "num"}, "text", child, …). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}
