// Starts Swagger UI on the document the page names. A file rather than an inline script,
// so the page's policy allows scripts from the app alone.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // The online validator's badge would send the document's address to another host.
    validatorUrl: null,
  });
})();
