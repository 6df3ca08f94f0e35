package org.bertserving.http;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code -api_key}: the keys a request may bring as {@code Authorization: Bearer <key>}. Compared
 * in constant time: each presented key is hashed and checked against every configured key's hash,
 * all of them, so neither the time of a mismatch nor the keys' lengths tell anything.
 */
final class ApiKeys extends AllDirectives {
  private static final String BEARER = "bearer ";

  private final List<byte[]> digests;

  ApiKeys(List<String> keys) {
    this.digests = keys.stream().map(ApiKeys::sha256).toList();
  }

  boolean enabled() {
    return !digests.isEmpty();
  }

  int size() {
    return digests.size();
  }

  /** Whether an {@code Authorization} header value carries one of the keys. */
  boolean matches(String authorization) {
    if (authorization == null
        || authorization.length() <= BEARER.length()
        || !authorization.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
      return false;
    }
    byte[] presented = sha256(authorization.substring(BEARER.length()).trim());
    boolean found = false;
    for (byte[] digest : digests) {
      found |= MessageDigest.isEqual(digest, presented);
    }
    return found;
  }

  /**
   * {@code inner} when the request brings a key (or none are configured), else 401 in the shape of
   * the request's route family.
   */
  Route require(Errors errors, Supplier<Route> inner) {
    if (!enabled()) {
      return inner.get();
    }
    return extractUri(
        uri ->
            optionalHeaderValueByName(
                "Authorization",
                header -> {
                  Dialect dialect = Dialect.of(uri.path());
                  if (matches(header.orElse(null))) {
                    return inner.get();
                  }
                  return errors.complete(
                      dialect,
                      header.isPresent()
                          ? ApiError.of(401, "invalid_api_key", "the API key is not valid")
                          : ApiError.of(
                              401,
                              "unauthorized",
                              "this server needs an API key: send the header "
                                  + "Authorization: Bearer <key>"));
                }));
  }

  private static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
