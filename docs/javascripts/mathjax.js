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
  }
};

// Material's instant navigation replaces the page content without reloading
// the scripts, so MathJax never sees the new page by itself. `document$`
// emits the document on first load (after DOMContentLoaded, when MathJax has
// run) and again after every instant navigation. Each typeset waits for the
// previous one through MathJax.startup.promise, so the first-load typeset and
// ours never run at the same time.
document$.subscribe(function () {
  var mathjax = window.MathJax;
  mathjax.startup.promise = mathjax.startup.promise.then(function () {
    mathjax.startup.output.clearCache();
    mathjax.typesetClear();
    mathjax.texReset();
    return mathjax.typesetPromise();
  });
});
