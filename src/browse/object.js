// Tessera's object page: OpenSeadragon on the chosen image, switched by the image list.
// Without JavaScript the page shows a still image and each choice is a link to the page with
// that image chosen (?image=N); with it, a click opens the image in the viewer in place.
//
// A public image opens from its info.json (Image API 3.0), tile by tile. An image limited in
// size (data-limited, in px) opens as a pyramid of the sizes its info.json offers, all within
// the limit: OpenSeadragon then has no tile URL beyond them to ask for, and stops zooming at
// the largest one.
(function () {
  "use strict";
  var box = document.getElementById("viewer");
  if (!box || !window.OpenSeadragon) return;
  var choices = Array.prototype.slice.call(document.querySelectorAll("a.choice"));
  var viewer = window.OpenSeadragon({
    id: "viewer",
    prefixUrl: box.getAttribute("data-buttons"),
    showNavigator: true,
    crossOriginPolicy: "Anonymous",
  });
  window.tesseraViewer = viewer;

  function limitedPyramid(info) {
    var id = info.id || info["@id"];
    var sizes = (info.sizes || []).slice().sort(function (a, b) { return a.width - b.width; });
    return {
      type: "legacy-image-pyramid",
      levels: sizes.map(function (s) {
        return { url: id + "/full/" + s.width + "," + s.height + "/0/default.jpg", width: s.width, height: s.height };
      }),
    };
  }

  function open(choice) {
    choices.forEach(function (c) { c.setAttribute("aria-current", c === choice ? "true" : "false"); });
    var info = choice.getAttribute("data-info");
    if (choice.getAttribute("data-limited")) {
      viewer.maxZoomPixelRatio = 1;
      viewer.viewport.maxZoomPixelRatio = 1;
      fetch(info).then(function (r) { return r.json(); }).then(function (j) { viewer.open(limitedPyramid(j)); });
    } else {
      viewer.maxZoomPixelRatio = 1.1;
      viewer.viewport.maxZoomPixelRatio = 1.1;
      viewer.open(info);
    }
  }

  choices.forEach(function (c) {
    c.addEventListener("click", function (e) {
      e.preventDefault();
      open(c);
      if (window.history && window.history.replaceState) window.history.replaceState(null, "", c.getAttribute("href"));
    });
  });
  var current = choices.filter(function (c) { return c.getAttribute("aria-current") === "true"; })[0] || choices[0];
  if (current) open(current);
})();
