/* common/tlspolicy.c: tern's TLS policy (tlspolicy.h). OpenSSL 3. */
#include <string.h>
#include <openssl/err.h>
#include "common/tlspolicy.h"

int tlspolicy_version(const char *name)
{
  if (!strcmp(name, "TLSv1")) return TLS1_VERSION;
  if (!strcmp(name, "TLSv1.1")) return TLS1_1_VERSION;
  if (!strcmp(name, "TLSv1.2")) return TLS1_2_VERSION;
  if (!strcmp(name, "TLSv1.3")) return TLS1_3_VERSION;
  return 0;
}

SSL_CTX *tlspolicy_server_ctx(int minversion)
{
  SSL_CTX *c = SSL_CTX_new(TLS_server_method());
  if (!c) return 0;
  if (!SSL_CTX_set_min_proto_version(c, minversion ? minversion : TLS1_2_VERSION)
      || !SSL_CTX_set_cipher_list(c, TLSPOLICY_CIPHERS12)
      || !SSL_CTX_set_dh_auto(c, 1)) {
    SSL_CTX_free(c);
    return 0;
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return c;
}

int tlspolicy_load(SSL_CTX *ctx, const char *certfile, const char *keyfile)
{
  if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) return -1;
  if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1) return -1;
  if (SSL_CTX_check_private_key(ctx) != 1) return -1;
  return 0;
}

const char *tlspolicy_error(char *buf, size_t n, const char *fallback)
{
  unsigned long e = ERR_get_error();
  unsigned long last = e;
  while ((e = ERR_get_error())) last = e;
  if (!last) {
    strncpy(buf, fallback, n - 1);
    buf[n - 1] = 0;
  } else ERR_error_string_n(last, buf, n);
  for (size_t k = 0; buf[k]; k++)
    if ((unsigned char)buf[k] < 0x20 || (unsigned char)buf[k] > 0x7e) buf[k] = '?';
  return buf;
}
