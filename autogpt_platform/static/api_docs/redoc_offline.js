// ReDoc's "API docs by Redocly" footer shows a logo from ReDoc's CDN, and ReDoc has no option to
// leave it out. Load this before ReDoc: images it points at that CDN come from our own static
// files instead, so the page asks no other host for anything (the page's Content-Security-Policy
// is the backstop). ReDoc sets an image's src both as an attribute and as a property.
"use strict";

(function () {
  const CDN = "https://cdn.redoc.ly/";
  const localLogo = document.currentScript.dataset.logo;
  const local = (value) => (String(value).startsWith(CDN) ? localLogo : value);

  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    const isImageSource = this instanceof HTMLImageElement && String(name).toLowerCase() === "src";
    return setAttribute.call(this, name, isImageSource ? local(value) : value);
  };

  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, local(value));
    },
  });
})();
