// MathJax 3 configuration for pymdownx.arithmatex in generic mode.
//
// This file must load before MathJax itself (it is listed first in
// `extra_javascript` in mkdocs.yml): MathJax reads `window.MathJax` once, when
// its own script runs.
//
// arithmatex wraps inline math as <span class="arithmatex">\(...\)</span> and
// display math as <div class="arithmatex">\[...\]</div>, so MathJax only looks
// inside elements with the class "arithmatex" and ignores everything else.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  },
  // The subscription below typesets every page, the first one included.
  startup: {
    typeset: false
  }
};

// Material's instant navigation replaces the page content without reloading
// the scripts, so MathJax does not typeset the new page by itself. It also removes
// MathJax's <style id="MJX-CHTML-styles"> from <head>, because the new page's
// <head> lacks it; clearCache() makes MathJax write the glyph rules again.
// Clearing after a typeset would instead strip the rules of the formulas
// already on the page, so MathJax's own start-up typeset is off and every
// typeset happens here. `document$` emits the document on first load (after
// DOMContentLoaded, when MathJax has run) and after every instant navigation.
// Each typeset waits for the previous one through MathJax.startup.promise.
document$.subscribe(function () {
  var mathjax = window.MathJax;
  mathjax.startup.promise = mathjax.startup.promise.then(function () {
    mathjax.startup.output.clearCache();
    mathjax.typesetClear();
    mathjax.texReset();
    return mathjax.typesetPromise();
  });
});
