// A small element builder: text is always set as text, never parsed as HTML
// (store ids and currencies come from producers).

/** h('td', { class: 'num', dataset: { value: '12' } }, 'text', child…) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') {
      for (const [key, data] of Object.entries(value)) if (data !== undefined && data !== null) element.dataset[key] = String(data);
    }
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function byId(id) {
  return document.getElementById(id);
}
