package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.bertserving.client.example.SemanticSearch;
import org.bertserving.server.BertServer;
import org.bertserving.server.TestNodes;
import org.junit.jupiter.api.Test;

/**
 * The README's example runs in a JVM whose classpath holds only the SDK, Jackson and Apache
 * HttpClient 5 (with its httpcore5 and slf4j-api), no Akka: the HTTP transport needs nothing else.
 */
class SemanticSearchExampleTest {

  @Test
  void theExampleRunsWithTheSdkJacksonAndApacheHttpClientOnly() throws Exception {
    try (BertServer server = TestNodes.serving(Map.of())) {
      TestNodes.awaitWorkers(server, 1);
      String sdkOnly =
          Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
              .filter(
                  p ->
                      p.contains("client-sdk")
                          || p.matches(".*jackson-(core|databind|annotations).*")
                          || p.matches(".*(httpclient5|httpcore5|slf4j-api)-.*"))
              .collect(Collectors.joining(File.pathSeparator));
      assertTrue(!sdkOnly.contains("akka"), sdkOnly);
      // output to a file, never a pipe read to its end first: a hung child cannot hang the build
      Path outFile = java.nio.file.Files.createTempFile("semantic-search", ".out");
      // apart: slf4j-api (Apache HttpClient's) warns there when an application has no binding
      Path errFile = java.nio.file.Files.createTempFile("semantic-search", ".err");
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  sdkOnly,
                  SemanticSearch.class.getName(),
                  "127.0.0.1",
                  String.valueOf(server.httpPort()),
                  "the red dog")
              .redirectError(errFile.toFile())
              .redirectOutput(outFile.toFile())
              .start();
      boolean exited = p.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      String out = java.nio.file.Files.readString(outFile, StandardCharsets.UTF_8);
      String err = java.nio.file.Files.readString(errFile, StandardCharsets.UTF_8);
      assertTrue(exited, "exited: " + out + err);
      assertEquals(0, p.exitValue(), out + err);
      assertTrue(out.startsWith("query: the red dog"), out);
      assertEquals(4, out.strip().lines().count(), "the query and the top 3: " + out);
    }
  }
}
