// Posts the SAML response form as soon as the page loads (what every IdP's POST binding does).
// An external file, so the page needs no inline script and keeps a strict CSP.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('saml-post');
  if (form) form.submit();
});
