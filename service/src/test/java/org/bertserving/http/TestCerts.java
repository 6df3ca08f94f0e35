package org.bertserving.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.bertserving.server.TestNodes;

/**
 * Self-signed certificates for tests, made by the JDK's keytool (always there) and written as the
 * PEM files openssl would write, or by openssl itself when the machine has it.
 */
public final class TestCerts {
  private TestCerts() {}

  /** The files of one certificate: {@code cert.pem} and its key as PKCS#8 and PKCS#1 PEM. */
  public record Pem(Path cert, Path pkcs8Key, Path pkcs1Key) {}

  /** A self-signed RSA certificate for 127.0.0.1 and localhost, by keytool. */
  public static Pem selfSigned(Path dir) throws Exception {
    Files.createDirectories(dir);
    Path store = dir.resolve("server.p12");
    run(
        List.of(
            keytool(),
            "-genkeypair",
            "-alias",
            "server",
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-validity",
            "2",
            "-dname",
            "CN=localhost",
            "-ext",
            "SAN=ip:127.0.0.1,dns:localhost",
            "-keystore",
            store.toString(),
            "-storetype",
            "PKCS12",
            "-storepass",
            "changeit"),
        dir);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    PrivateKey key = (PrivateKey) ks.getKey("server", "changeit".toCharArray());
    Certificate cert = ks.getCertificate("server");
    Pem pem =
        new Pem(dir.resolve("cert.pem"), dir.resolve("key.pem"), dir.resolve("key-pkcs1.pem"));
    write(pem.cert(), "CERTIFICATE", cert.getEncoded());
    write(pem.pkcs8Key(), "PRIVATE KEY", key.getEncoded());
    write(pem.pkcs1Key(), "RSA PRIVATE KEY", pkcs1(key.getEncoded()));
    return pem;
  }

  /** PKCS#8's PrivateKeyInfo holds PKCS#1's RSAPrivateKey as its last element, an OCTET STRING. */
  private static byte[] pkcs1(byte[] pkcs8) {
    int at = skipHeader(pkcs8, 0);
    at = next(pkcs8, at); // version
    at = next(pkcs8, at); // algorithm
    int start = skipHeader(pkcs8, at);
    return Arrays.copyOfRange(pkcs8, start, next(pkcs8, at));
  }

  private static int skipHeader(byte[] der, int at) {
    int length = der[at + 1] & 0xff;
    return at + 2 + (length > 0x80 ? length - 0x80 : 0);
  }

  private static int next(byte[] der, int at) {
    int length = der[at + 1] & 0xff;
    int start = at + 2;
    if (length > 0x80) {
      int n = length - 0x80;
      length = 0;
      for (int i = 0; i < n; i++) {
        length = (length << 8) | (der[start + i] & 0xff);
      }
      start += n;
    }
    return start + length;
  }

  public static void write(Path file, String kind, byte[] der) throws IOException {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    Files.writeString(
        file, "-----BEGIN " + kind + "-----\n" + body + "\n-----END " + kind + "-----\n");
  }

  public static boolean hasOpenssl() {
    try {
      return TestNodes.run(new ProcessBuilder("openssl", "version"), 10).exit() == 0;
    } catch (Exception | AssertionError e) {
      return false; // not installed, or hung
    }
  }

  /** Runs a command in {@code dir}, failing with its output unless it exits 0 within a minute. */
  public static void run(List<String> command, Path dir) throws Exception {
    TestNodes.Child child = TestNodes.run(new ProcessBuilder(command).directory(dir.toFile()), 60);
    if (child.exit() != 0) {
      throw new IllegalStateException(command + ": " + child.output());
    }
  }

  public static String keytool() {
    return Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
  }
}
