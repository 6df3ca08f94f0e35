package org.bertserving.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bertserving.client.BertClient;
import org.bertserving.client.BertClientException;
import org.bertserving.client.BertServerException;
import org.bertserving.engine.BertEncoder;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS from PEM files (a certificate keytool made, its key as PKCS#8 and PKCS#1; openssl's EC keys
 * when the machine has openssl), and the Java SDK over it with an API key and the certificate as
 * its trust.
 */
class HttpsTest {
  @TempDir Path tmp;

  static BertServer start(Map<String, Object> overrides) throws Exception {
    BertServer server =
        TestNodes.start(TestNodes.node(List.of("frontend", "worker"), 0, true, overrides));
    TestNodes.awaitWorkers(server, 1);
    return server;
  }

  static URI uri(BertServer server) {
    return URI.create("https://127.0.0.1:" + server.httpPort());
  }

  @Test
  void theSdkTalksHttpsWithAnApiKeyToACertificateItWasToldToTrust() throws Exception {
    TestCerts.Pem pem = TestCerts.selfSigned(tmp.resolve("rsa"));
    List<String> texts = List.of("hello world", "how are you?");
    try (BertServer server =
            start(
                Map.of(
                    "bert-serving.http.tls.cert",
                    pem.cert().toString(),
                    "bert-serving.http.tls.key",
                    pem.pkcs1Key().toString(),
                    "bert-serving.http.api-key",
                    "k1,k2"));
        BertEncoder direct = TestNodes.tinyEngine();
        BertClient client =
            BertClient.builder().http(uri(server)).apiKey("k2").trust(pem.cert()).build()) {
      URI uri = uri(server);
      float[][] vectors = client.encode(texts);
      float[][] expected = direct.encode(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertArrayEquals(expected[i], vectors[i], 1e-6f);
      }
      assertEquals(16, client.serverStatus().maxSeqLen());
      try (BertClient noKey = BertClient.builder().http(uri).trust(pem.cert()).retries(0).build()) {
        BertServerException e = assertThrows(BertServerException.class, () -> noKey.encode(texts));
        assertEquals(401, e.status());
      }
      try (BertClient distrustful =
          BertClient.builder().http(uri).apiKey("k1").retries(0).build()) {
        assertThrows(
            BertClientException.class,
            () -> distrustful.encode(texts),
            "a self-signed certificate is not trusted unless told");
      }
      // a trust store works as well as the PEM file
      try (BertClient stored =
          BertClient.builder()
              .http(uri)
              .apiKey("k1")
              .trust(pem.cert().resolveSibling("server.p12"), "changeit".toCharArray())
              .build()) {
        assertEquals(2, stored.encode(texts).length);
      }
    }
  }

  @Test
  void keysAsOpensslWritesThemAndKeysThatCannotServe() throws Exception {
    TestCerts.Pem pem = TestCerts.selfSigned(tmp.resolve("rsa"));
    assertNotNull(Tls.serverContext(pem.cert(), pem.pkcs8Key()));
    assertNotNull(Tls.serverContext(pem.cert(), pem.pkcs1Key()));
    TestCerts.Pem other = TestCerts.selfSigned(tmp.resolve("other"));
    IllegalArgumentException wrongPair =
        assertThrows(
            IllegalArgumentException.class, () -> Tls.serverContext(pem.cert(), other.pkcs8Key()));
    assertTrue(
        wrongPair.getMessage().contains("is not the key of -tls_cert"), wrongPair.getMessage());
    IllegalArgumentException notPem =
        assertThrows(
            IllegalArgumentException.class, () -> Tls.serverContext(pem.cert(), pem.cert()));
    assertTrue(notPem.getMessage().contains("-tls_key"), notPem.getMessage());

    Assumptions.assumeTrue(
        TestCerts.hasOpenssl(), "openssl is not installed: its own key files not tried");
    Path dir = Files.createDirectories(tmp.resolve("openssl"));
    // openssl ecparam writes an EC PARAMETERS block before the SEC1 key
    TestCerts.run(
        List.of("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.pem"), dir);
    selfSigned("ec.pem", "ec.crt", dir, "-addext", "subjectAltName=IP:127.0.0.1");
    TestCerts.run(List.of("openssl", "genrsa", "-traditional", "-out", "rsa1.pem", "2048"), dir);
    selfSigned("rsa1.pem", "rsa1.crt", dir);
    TestCerts.run(
        List.of(
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-aes256",
            "-pass",
            "pass:secret",
            "-out",
            "encrypted.pem"),
        dir);
    assertTrue(Files.readString(dir.resolve("rsa1.pem")).contains("BEGIN RSA PRIVATE KEY"));
    assertNotNull(Tls.serverContext(dir.resolve("rsa1.crt"), dir.resolve("rsa1.pem")));
    IllegalArgumentException encrypted =
        assertThrows(
            IllegalArgumentException.class,
            () -> Tls.serverContext(dir.resolve("rsa1.crt"), dir.resolve("encrypted.pem")));
    assertTrue(encrypted.getMessage().contains("is encrypted"), encrypted.getMessage());
    // an EC certificate serves HTTPS end to end
    try (BertServer server =
            start(
                Map.of(
                    "bert-serving.http.tls.cert",
                    dir.resolve("ec.crt").toString(),
                    "bert-serving.http.tls.key",
                    dir.resolve("ec.pem").toString()));
        BertClient client =
            BertClient.builder().http(uri(server)).trust(dir.resolve("ec.crt")).build()) {
      assertEquals(1, client.encode(List.of("hello")).length);
    }
  }

  /** openssl's self-signed certificate for localhost, 2 days, of the key in {@code dir}. */
  static void selfSigned(String key, String cert, Path dir, String... more) throws Exception {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                "openssl",
                "req",
                "-new",
                "-x509",
                "-key",
                key,
                "-out",
                cert,
                "-days",
                "2",
                "-subj",
                "/CN=localhost"));
    command.addAll(List.of(more));
    TestCerts.run(command, dir);
  }
}
