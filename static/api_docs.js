// The integrators' API page (/api/docs): render the OpenAPI description with the vendored Swagger UI.
// A file of its own because the Content-Security-Policy allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var root = document.getElementById("api-docs");
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    docExpansion: "list", // operations listed, opened with a click
    defaultModelsExpandDepth: 0,
    deepLinking: true,
    validatorUrl: null, // never ask swagger.io to validate: nothing leaves the intranet
    tryItOutEnabled: false,
  });
});
