package org.bertserving.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** TLS contexts that trust a server's certificate (or its CA) given as PEM or as a trust store. */
final class Trust {
  private Trust() {}

  /**
   * @param file PEM certificates ({@code -----BEGIN CERTIFICATE-----}), or a PKCS#12 / JKS store
   * @param password the store's password; {@code null} for PEM or a store without one
   */
  static SSLContext of(Path file, char[] password) {
    try {
      byte[] bytes = Files.readAllBytes(file);
      KeyStore store;
      if (new String(bytes, StandardCharsets.US_ASCII).contains("-----BEGIN CERTIFICATE-----")) {
        store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int n = 0;
        for (Certificate c :
            CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(bytes))) {
          store.setCertificateEntry("ca-" + n++, c);
        }
      } else {
        store = KeyStore.getInstance(file.toFile(), password);
      }
      return of(store);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the trust file " + file + ": " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("trust file " + file + ": " + e.getMessage(), e);
    }
  }

  static SSLContext of(KeyStore store) {
    try {
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot trust that store: " + e.getMessage(), e);
    }
  }
}
