// Message text to DOM without ever parsing HTML: text nodes, and anchors only for http(s) links
// ("[title](https://…)" or a bare URL) to an allowed host, and <strong> for "**bold**". Anything
// else, markup included, stays visible as text. The server removes links to other hosts already
// (rasa_runtime/channels/outbound.py); this is the second check, in the browser's own URL parser.
const BOLD = /\*\*([^*\n]{1,300})\*\*/g;
const LINK = /\[([^\]\n]{1,200})\]\((https?:\/\/[^)\s]+)\)|(https?:\/\/[^\s<>"')\]]+)/g;

export function safeUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (_e) {
    return null;
  }
}

// allowed: host names ("*.example.de" = its subdomains too), from the server's session_confirm
// and the script's data-link-hosts.
export function hostAllowed(href, allowed) {
  if (!href || !allowed) return false;
  let url;
  try {
    url = new URL(href);
  } catch (_e) {
    return false;
  }
  if (url.username || url.password) return false;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  for (const raw of allowed) {
    const entry = String(raw).toLowerCase();
    if (host === entry) return true;
    if (entry.startsWith("*.") && (host === entry.slice(2) || host.endsWith(entry.slice(1)))) return true;
  }
  return false;
}

export function externalLink(doc, href, label, newWindowText) {
  const a = doc.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.textContent = label;
  const hint = doc.createElement("span");
  hint.className = "ba-sr";
  hint.textContent = ` ${newWindowText}`;
  a.appendChild(hint);
  return a;
}

export function appendText(doc, parent, text, newWindowText, allowed) {
  const value = String(text ?? "");
  let last = 0;
  BOLD.lastIndex = 0;
  let b;
  while ((b = BOLD.exec(value)) !== null) {
    appendLinks(doc, parent, value.slice(last, b.index), newWindowText, allowed);
    const strong = doc.createElement("strong");
    appendLinks(doc, strong, b[1], newWindowText, allowed);
    parent.appendChild(strong);
    last = BOLD.lastIndex;
  }
  appendLinks(doc, parent, value.slice(last), newWindowText, allowed);
}

function appendLinks(doc, parent, value, newWindowText, allowed) {
  let last = 0;
  LINK.lastIndex = 0;
  let m;
  while ((m = LINK.exec(value)) !== null) {
    const href = safeUrl(m[2] || m[3]);
    parent.appendChild(doc.createTextNode(value.slice(last, m.index)));
    if (href && hostAllowed(href, allowed)) {
      parent.appendChild(externalLink(doc, href, m[1] || m[3], newWindowText));
    } else if (m[1]) {
      parent.appendChild(doc.createTextNode(m[1])); // the words only, never the address
    } else {
      parent.appendChild(doc.createTextNode(m[0]));
    }
    last = LINK.lastIndex;
  }
  parent.appendChild(doc.createTextNode(value.slice(last)));
}
