package org.bertserving.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * HTTPS from PEM files as openssl writes them, with the JDK alone: a certificate (chain) and an
 * unencrypted private key, PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 RSA ({@code BEGIN RSA PRIVATE
 * KEY}) or SEC1 EC ({@code BEGIN EC PRIVATE KEY}). The JDK reads only PKCS#8, so the other two are
 * wrapped into it (a few DER bytes). A key that does not belong to the certificate is refused at
 * start, not at the first handshake.
 */
final class Tls {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

  /** rsaEncryption and id-ecPublicKey, DER-encoded object identifiers. */
  private static final byte[] RSA_OID = hex("06092a864886f70d010101");

  private static final byte[] EC_OID = hex("06072a8648ce3d0201");

  private Tls() {}

  /** A server context for {@code -tls_cert} and {@code -tls_key}; a bad file names its flag. */
  static SSLContext serverContext(Path certFile, Path keyFile) {
    try {
      List<X509Certificate> chain = certificates(certFile);
      PrivateKey key = privateKey(keyFile);
      checkPair(key, chain.get(0), certFile, keyFile);
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      char[] password = new char[0];
      store.setKeyEntry("server", key, password, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  static List<X509Certificate> certificates(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> chain =
          CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
              .map(c -> (X509Certificate) c)
              .toList();
      if (chain.isEmpty()) {
        throw new IOException("-tls_cert " + file + ": no certificate in it");
      }
      return chain;
    } catch (GeneralSecurityException e) {
      throw new IOException(
          "-tls_cert " + file + ": not a PEM certificate (" + e.getMessage() + ")", e);
    }
  }

  static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    Matcher block = BLOCK.matcher(Files.readString(file, StandardCharsets.US_ASCII));
    while (block.find()) {
      String kind = block.group(1);
      String body = block.group(2);
      if (kind.equals("ENCRYPTED PRIVATE KEY") || body.contains("ENCRYPTED")) {
        throw new IOException(
            "-tls_key "
                + file
                + " is encrypted; write it without a passphrase: "
                + "openssl pkey -in "
                + file
                + " -out key.pem");
      }
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(body.replaceAll("(?m)^[A-Za-z-]+:.*$", "").trim());
      } catch (IllegalArgumentException e) {
        throw new IOException("-tls_key " + file + ": " + kind + " is not valid base64", e);
      }
      switch (kind) {
        case "PRIVATE KEY":
          return pkcs8(der, file);
        case "RSA PRIVATE KEY":
          return pkcs8(sequence(integer0(), sequence(RSA_OID, hex("0500")), octets(der)), file);
        case "EC PRIVATE KEY":
          return pkcs8(sequence(integer0(), sequence(EC_OID, curve(der, file)), octets(der)), file);
        default:
          // openssl ecparam writes EC PARAMETERS before the key; skip such blocks
      }
    }
    throw new IOException(
        "-tls_key " + file + ": no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block");
  }

  private static PrivateKey pkcs8(byte[] der, Path file) throws IOException {
    for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next
      }
    }
    throw new IOException("-tls_key " + file + ": not an RSA, EC or Ed25519 private key");
  }

  /** SEC1's named curve ([0] of ECPrivateKey), which PKCS#8 carries in its algorithm. */
  private static byte[] curve(byte[] sec1, Path file) throws IOException {
    int at = header(sec1, 0)[0]; // inside the SEQUENCE
    while (at < sec1.length) {
      int[] h = header(sec1, at);
      if ((sec1[at] & 0xff) == 0xa0) {
        return java.util.Arrays.copyOfRange(sec1, h[0], h[0] + h[1]);
      }
      at = h[0] + h[1];
    }
    throw new IOException("-tls_key " + file + ": the EC key names no curve");
  }

  /** {offset of the value, its length} of the DER element at {@code at}. */
  private static int[] header(byte[] der, int at) {
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
    return new int[] {start, length};
  }

  private static void checkPair(PrivateKey key, X509Certificate cert, Path certFile, Path keyFile)
      throws GeneralSecurityException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> key.getAlgorithm();
        };
    byte[] probe = "bert-serving".getBytes(StandardCharsets.US_ASCII);
    Signature sign = Signature.getInstance(algorithm);
    sign.initSign(key);
    sign.update(probe);
    byte[] signature = sign.sign();
    Signature verify = Signature.getInstance(algorithm);
    try {
      verify.initVerify(cert.getPublicKey());
      verify.update(probe);
      if (verify.verify(signature)) {
        return;
      }
    } catch (GeneralSecurityException e) {
      // a key of another kind than the certificate's: not its pair either
    }
    throw new GeneralSecurityException(
        "-tls_key " + keyFile + " is not the key of -tls_cert " + certFile);
  }

  private static byte[] integer0() {
    return hex("020100");
  }

  private static byte[] octets(byte[] content) {
    return element(0x04, content);
  }

  private static byte[] sequence(byte[]... parts) {
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      content.writeBytes(part);
    }
    return element(0x30, content.toByteArray());
  }

  private static byte[] element(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(n >>> (8 * i));
      }
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] hex(String s) {
    return java.util.HexFormat.of().parseHex(s);
  }
}
