// Run by tests/browser/test_words_whole.py as page.evaluate(source, words).
(words) => {
  const known = new Set(words);
  const broken = [];
  // A constructed sheet: the page's CSP refuses <style> elements.
  const manual = new CSSStyleSheet();
  manual.replaceSync('* { hyphens: manual !important; }');
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, manual];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest('script, style, [hidden], [aria-hidden="true"]') || !el.checkVisibility()) continue;
    for (const match of node.textContent.matchAll(/[\p{L}]{4,}/gu)) {
      if (!known.has(match[0])) continue;
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (tops.size > 1) broken.push(`${match[0]} in <${el.tagName.toLowerCase()} class="${el.className}">`);
    }
  }
  const clipped = [];
  for (const el of document.querySelectorAll('button, .button, select')) {
    if (!el.checkVisibility() || el.closest('[hidden]')) continue;
    if (el.tagName === 'SELECT') {
      const option = el.options[el.selectedIndex];
      if (!option) continue;
      const probe = document.createElement('span');
      const css = getComputedStyle(el);
      probe.style.cssText = `position:absolute;visibility:hidden;white-space:pre;font:${css.font};letter-spacing:${css.letterSpacing}`;
      probe.textContent = option.text;
      document.body.append(probe);
      const needed = probe.getBoundingClientRect().width + parseFloat(css.paddingLeft) + 16;
      probe.remove();
      if (needed > el.clientWidth + 0.5) clipped.push(`select "${option.text}" needs ${Math.ceil(needed)} px of ${el.clientWidth}`);
    } else {
      // Text outside its button's box (a badge drawn over the edge is not text).
      const box = el.getBoundingClientRect();
      const texts = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      while (texts.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(texts.currentNode);
        const out = [...range.getClientRects()].some((r) => r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1));
        if (out) { clipped.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}"`); break; }
      }
    }
  }
  document.adoptedStyleSheets = document.adoptedStyleSheets.filter((sheet) => sheet !== manual);
  return { broken: [...new Set(broken)], clipped };
}
