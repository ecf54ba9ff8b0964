// Tell RequireJS where this site keeps the widget manager and anywidget's front end, so that
// embed-amd.js (loaded next) finds anywidget here instead of on a CDN, and the manager's icon
// fonts (found relative to the manager's module) load from here too. The paths are taken
// relative to this script, so they work from every page of the book.
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  window.require.config({
    paths: {
      anywidget: here + "anywidget/index",
      "@jupyter-widgets/html-manager/dist": here + "html-manager",
    },
  });
})();
