package org.bertserving.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.engine.PoolingStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The flags of bert-serving-start, their HOCON keys, and how bad ones end the process. */
class StartArgsTest {

  @Test
  void flagsMapOntoTheirConfigKeys() {
    Config c =
        StartArgs.parse(
                "-max_seq_len",
                "NONE",
                "-pooling_layer",
                "-1,-2",
                "-pooling_strategy",
                "CLS_TOKEN",
                "-num_worker",
                "2",
                "-device_map",
                "0,1",
                "-http_port",
                "9000",
                "-mask_cls_sep",
                "-role",
                "worker",
                "-seed_nodes",
                "10.0.0.1:25520,127.0.0.1:25521")
            .config();
    ServingSettings s = ServingSettings.create(c);
    assertEquals(null, s.engine().maxSeqLen());
    assertEquals(List.of(-1, -2), s.engine().poolingLayers());
    assertEquals(PoolingStrategy.FIRST_TOKEN, s.engine().poolingStrategy());
    assertEquals(2, s.numWorker());
    assertEquals(1, s.engineFor(1).deviceId());
    assertEquals(9000, s.httpPort());
    assertTrue(s.engine().maskClsSep());
    assertEquals(List.of("worker"), c.getStringList("akka.cluster.roles"));
    assertEquals(
        List.of("akka://bert-serving@10.0.0.1:25520", "akka://bert-serving@127.0.0.1:25521"),
        c.getStringList("akka.cluster.seed-nodes"));
    assertTrue(!c.getBoolean("bert-serving.zmq.enabled"), "ZeroMQ is off unless a port is given");
    Config zmq = StartArgs.parse("-port", "6000").config();
    assertTrue(zmq.getBoolean("bert-serving.zmq.enabled"));
    assertEquals(6000, zmq.getInt("bert-serving.zmq.port"));
    assertEquals(5556, zmq.getInt("bert-serving.zmq.port-out"));
  }

  @Test
  void theApiFlagsMapOntoTheHttpKeys() {
    Config c =
        StartArgs.parse(
                "-api_key",
                "k1,k2",
                "-api_key_file",
                "/etc/keys",
                "-tls_cert",
                "c.pem",
                "-tls_key",
                "k.pem",
                "-cors",
                "https://a.example,https://b.example",
                "-max_client_batch_size",
                "64",
                "-auto_truncate")
            .config();
    assertEquals("k1,k2", c.getString("bert-serving.http.api-key"));
    assertEquals("/etc/keys", c.getString("bert-serving.http.api-key-file"));
    assertEquals("c.pem", c.getString("bert-serving.http.tls.cert"));
    assertEquals("k.pem", c.getString("bert-serving.http.tls.key"));
    assertEquals("https://a.example,https://b.example", c.getString("bert-serving.http.cors"));
    assertEquals(64, c.getInt("bert-serving.http.tei.max-client-batch-size"));
    assertTrue(c.getBoolean("bert-serving.http.tei.auto-truncate"));
    Config defaults = StartArgs.parse().config();
    assertEquals("", defaults.getString("bert-serving.http.cors"), "no CORS unless asked");
    assertEquals("", defaults.getString("bert-serving.http.tls.cert"), "plain HTTP unless asked");
    assertTrue(!defaults.getBoolean("bert-serving.http.tei.auto-truncate"));
  }

  @Test
  void aConfigFileIsOverriddenByFlags(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.conf");
    Files.writeString(
        file, "bert-serving.engine.max-seq-len = 40\nbert-serving.http.port = 8000\n");
    ServingSettings s =
        ServingSettings.create(
            StartArgs.parse("-config", file.toString(), "-http_port", "8001").config());
    assertEquals(40, s.engine().maxSeqLen());
    assertEquals(8001, s.httpPort());
  }

  @Test
  void aNamedModelBringsItsDefaultsAndFlagsOverrideThem() {
    ServingSettings google = ServingSettings.create(StartArgs.parse().config());
    assertEquals(25, google.engine().maxSeqLen());
    assertEquals(List.of(-2), google.engine().poolingLayers());
    assertEquals(PoolingStrategy.REDUCE_MEAN, google.engine().poolingStrategy());
    assertTrue(!google.engine().normalize(), "Google's BERTs keep bert-as-service's vectors");
    assertEquals("bert-base-uncased", google.engine().modelName());

    ServingSettings minilm =
        ServingSettings.create(StartArgs.parse("-model", "all-minilm-l6-v2").config());
    assertEquals("all-minilm-l6-v2", minilm.engine().model());
    assertEquals(256, minilm.engine().maxSeqLen());
    assertEquals(List.of(-1), minilm.engine().poolingLayers());
    assertEquals(PoolingStrategy.REDUCE_MEAN, minilm.engine().poolingStrategy());
    assertTrue(minilm.engine().normalize());

    ServingSettings bge =
        ServingSettings.create(
            StartArgs.parse(
                    "-model",
                    "BGE-small-en-v1.5",
                    "-max_seq_len",
                    "128",
                    "-normalize",
                    "false",
                    "-prompt",
                    "query: ")
                .config());
    assertEquals(PoolingStrategy.FIRST_TOKEN, bge.engine().poolingStrategy());
    assertEquals(128, bge.engine().maxSeqLen());
    assertTrue(!bge.engine().normalize());
    assertEquals("query: ", bge.engine().prompt());
    assertTrue(bge.engineFor(0).normalize() == bge.engine().normalize(), "kept per worker");

    ServingSettings normalized =
        ServingSettings.create(StartArgs.parse("-normalize", "-max_seq_len", "30").config());
    assertTrue(normalized.engine().normalize(), "-normalize alone turns it on");
    assertEquals(30, normalized.engine().maxSeqLen());
  }

  @Test
  void badFlagsAndValuesAreRefusedWithTheirName() {
    assertMessage("unknown flag -bogus", "-bogus");
    assertMessage("-max_seq_len 'x' is not an integer", "-max_seq_len", "x");
    assertMessage("-role 'boss'", "-role", "boss");
    assertMessage("-seed_nodes 'nohost'", "-seed_nodes", "nohost");
    assertMessage("flag -http_port needs a value", "-http_port");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ServingSettings.create(StartArgs.parse("-pooling_strategy", "AVG").config()));
    assertTrue(e.getMessage().contains("unknown pooling_strategy 'AVG'"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ServingSettings.create(StartArgs.parse("-model", "gpt-2").config()));
    assertTrue(
        e.getMessage().contains("-model 'gpt-2': expected one of bert-base-uncased"),
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ServingSettings.create(
                    StartArgs.parse("-model", "e5-small-v2", "-model_dir", "/tmp").config()));
    assertTrue(
        e.getMessage().contains("-model e5-small-v2: expected no -model_dir beside it"),
        e.getMessage());
  }

  @Test
  void aWorkerTakesNoRequestPortUnlessAsked() {
    assertEquals(
        false, StartArgs.parse("-role", "worker").config().getBoolean("bert-serving.http.enabled"));
    assertEquals(
        true,
        StartArgs.parse("-role", "worker", "-http_port", "9000")
            .config()
            .getBoolean("bert-serving.http.enabled"));
    assertEquals(
        true,
        StartArgs.parse("-role", "frontend").config().getBoolean("bert-serving.http.enabled"));
  }

  static void assertMessage(String fragment, String... args) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> StartArgs.parse(args).config());
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }

  @Test
  void theProcessExitsWith2AndOneLineOnABadFlag() throws Exception {
    for (String[] args :
        new String[][] {{"-bogus"}, {"-max_seq_len", "2"}, {"-pooling_layer", "x"}}) {
      List<String> command =
          new ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  Main.class.getName()));
      command.addAll(List.of(args));
      // stderr to a file, never a pipe read to its end first: a hung child cannot hang the build
      Path errFile = Files.createTempFile("bad-flag", ".err");
      Process p =
          new ProcessBuilder(command)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(errFile.toFile())
              .start();
      boolean exited = p.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      String err = Files.readString(errFile, StandardCharsets.UTF_8).strip();
      assertTrue(exited, "exited: " + err);
      assertEquals(2, p.exitValue(), String.join(" ", args) + ": " + err);
      assertEquals(1, err.lines().count(), "one line: " + err);
      assertTrue(err.startsWith("bert-serving-start: "), err);
    }
  }
}
