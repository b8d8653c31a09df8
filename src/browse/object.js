// Tessera's object page: OpenSeadragon on the chosen image, switched by the image list.
// Without JavaScript the page shows a still image and each choice is a link to the page with
// that image chosen (?image=N); with it, a click opens the image in the viewer in place.
//
// A public image opens from its info.json (Image API 3.0), tile by tile. An image limited in
// size (data-limited, in px) opens as a pyramid of the sizes its info.json offers, all within
// the limit: OpenSeadragon then has no tile URL beyond them to ask for. It is shown, and can
// be zoomed, only up to one pixel of its largest size per CSS pixel.
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
      viewer.viewport.maxZoomPixelRatio = 1;
      fetch(info).then(function (r) { return r.json(); }).then(function (j) {
        viewer.addOnceHandler("open", function () {
          // Home is the largest size at one pixel per CSS pixel (or the whole image, if
          // smaller), and zooming stops there.
          var item = viewer.world.getItemAt(0);
          viewer.viewport.defaultZoomLevel = 0;
          viewer.viewport.defaultZoomLevel = Math.min(item.imageToViewportZoom(1), viewer.viewport.getHomeZoom());
          viewer.viewport.goHome(true);
        });
        viewer.open(limitedPyramid(j));
      });
    } else {
      viewer.viewport.maxZoomPixelRatio = 1.1;
      viewer.viewport.defaultZoomLevel = 0;
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
