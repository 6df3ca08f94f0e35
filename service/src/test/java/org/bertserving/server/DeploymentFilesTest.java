package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bertserving.cli.StartArgs;
import org.junit.jupiter.api.Test;

/** The deployment files under ops/deploy parse, and say what a cluster of this service needs. */
class DeploymentFilesTest {
  /** bert-serving.frontend.request-timeout's default, from reference.conf. */
  static final long REQUEST_TIMEOUT_SECONDS =
      com.typesafe.config.ConfigFactory.defaultReference()
          .getDuration("bert-serving.frontend.request-timeout")
          .toSeconds();

  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static Path deploy() {
    Path fromModule = Path.of("..", "ops", "deploy");
    return Files.isDirectory(fromModule) ? fromModule : Path.of("ops", "deploy");
  }

  static List<JsonNode> documents(Path file) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (YAMLParser parser = new YAMLFactory().createParser(file.toFile())) {
      var it = YAML.readValues(parser, JsonNode.class);
      while (it.hasNext()) {
        docs.add(it.next());
      }
    }
    return docs;
  }

  @Test
  void everyKubernetesManifestParsesAndIsComplete() throws IOException {
    List<JsonNode> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(deploy().resolve("k8s"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
        for (JsonNode doc : documents(f)) {
          assertTrue(doc.hasNonNull("apiVersion") && doc.hasNonNull("kind"), f + ": " + doc);
          assertTrue(doc.path("metadata").hasNonNull("name"), f + ": metadata.name");
          all.add(doc);
        }
      }
    }
    JsonNode frontend = find(all, "Deployment", "bert-frontend");
    JsonNode worker = find(all, "Deployment", "bert-worker");
    for (JsonNode workload : List.of(frontend, worker)) {
      JsonNode container = workload.at("/spec/template/spec/containers/0");
      // probes on the management port, which answers whatever the request port is doing
      assertEquals("/ready", container.at("/readinessProbe/httpGet/path").asText());
      assertEquals("/health", container.at("/livenessProbe/httpGet/path").asText());
      assertEquals("management", container.at("/readinessProbe/httpGet/port").asText());
      assertEquals("management", container.at("/livenessProbe/httpGet/port").asText());
      assertTrue(ports(container).contains(8558), "management port declared");
      if (workload == worker) { // liveness only once the models are up, however long that takes
        assertEquals("/health", container.at("/startupProbe/httpGet/path").asText());
        assertTrue(
            container.at("/startupProbe/periodSeconds").asInt()
                    * container.at("/startupProbe/failureThreshold").asInt()
                >= 300,
            "five minutes at least for a start");
      }
      // a frontend's graceful stop takes up to the request timeout + about 35 s (README)
      assertTrue(
          workload.at("/spec/template/spec/terminationGracePeriodSeconds").asInt()
              >= REQUEST_TIMEOUT_SECONDS + 35,
          "graceful termination covers the request timeout and the leave");
      // Cluster Bootstrap finds the pods: no seed pod that could form an island when restarted
      assertEquals("bert-serving", workload.at("/spec/template/metadata/labels/app").asText());
      assertEquals("bert-serving", workload.at("/spec/template/spec/serviceAccountName").asText());
      List<String> args = new ArrayList<>();
      workload.at("/spec/template/spec/containers/0/args").forEach(a -> args.add(a.asText()));
      assertFalse(args.contains("-seed_nodes"), workload.at("/metadata/name") + ": no seed nodes");
      assertEquals("cluster-conf/kubernetes.conf", args.get(args.indexOf("-config") + 1));
      // the flags must be ones bert-serving-start knows (env references stay literal here)
      StartArgs.parse(
          args.stream().map(a -> a.replace("$(POD_IP)", "10.0.0.1")).toArray(String[]::new));
      // Artery over TLS between pods: the Secret's PEM files where tls-pem.conf reads them
      assertEquals("akka-tls", container.at("/volumeMounts/0/name").asText());
      assertEquals(
          "/var/run/secrets/akka-tls/rotating-keys-engine",
          container.at("/volumeMounts/0/mountPath").asText());
      assertEquals(
          "bert-serving-akka-tls",
          workload.at("/spec/template/spec/volumes/0/secret/secretName").asText());
    }
    assertEquals(
        1, worker.at("/spec/template/spec/containers/0/resources/limits/nvidia.com~1gpu").asInt());
    // several frontends share the workers (each admits knowing the others' backlog), on several
    // hosts when they can be, and a drain or an upgrade takes one of them at a time; an odd number,
    // so that the split-brain resolver's majority of frontends survives the loss of one
    int frontends = frontend.at("/spec/replicas").asInt();
    assertTrue(frontends >= 3 && frontends % 2 == 1, frontends + " frontend replicas");
    JsonNode spread =
        frontend.at(
            "/spec/template/spec/affinity/podAntiAffinity"
                + "/preferredDuringSchedulingIgnoredDuringExecution/0/podAffinityTerm");
    assertEquals("kubernetes.io/hostname", spread.at("/topologyKey").asText());
    assertEquals(
        frontend.at("/spec/selector/matchLabels"), spread.at("/labelSelector/matchLabels"));
    JsonNode budget = find(all, "PodDisruptionBudget", "bert-frontend");
    assertEquals(1, budget.at("/spec/maxUnavailable").asInt());
    assertEquals(
        frontend.at("/spec/selector/matchLabels"), budget.at("/spec/selector/matchLabels"));
    JsonNode http = find(all, "Service", "bert-http");
    assertEquals("frontend", http.at("/spec/selector/role").asText(), "HTTP spreads over them");
    JsonNode role = find(all, "Role", "pod-reader");
    assertTrue(role.at("/rules/0/verbs").toString().contains("list"), "bootstrap may list pods");
    find(all, "RoleBinding", "bert-serving-reads-pods");
    find(all, "ServiceAccount", "bert-serving");
    Config kubernetes =
        ClusterConfFilesTest.load(ClusterConfFilesTest.dir().resolve("kubernetes.conf"));
    assertTrue(kubernetes.getBoolean("bert-serving.cluster.bootstrap"));
    assertEquals("tls-tcp", kubernetes.getString("akka.remote.artery.transport"));
    assertEquals(
        "akka.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider",
        kubernetes.getString("akka.remote.artery.ssl.ssl-engine-provider"));
    assertEquals(
        "/var/run/secrets/akka-tls/rotating-keys-engine/tls.key",
        kubernetes.getString("akka.remote.artery.ssl.rotating-keys-engine.key-file"));
    assertEquals(
        "kubernetes-api",
        kubernetes.getString(
            "akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
    assertEquals(
        "management",
        kubernetes.getString(
            "akka.management.cluster.bootstrap.contact-point-discovery.port-name"));
  }

  /**
   * Formation and rollouts on Kubernetes: only frontends are Cluster Bootstrap's contact points (a
   * worker loading its models, or one that cannot start, would hold back the first formation, which
   * waits for every contact point discovered), as many as the frontends' replicas; a GPU worker's
   * rollout needs no GPU beyond the workers' own; a stopping frontend takes connections a moment
   * more, within its grace period; the images are the ones the Containerfile's commands tag.
   */
  @Test
  void kubernetesFormsFromTheFrontendsAndRollsOutWithoutASparePodOrARefusedConnection()
      throws IOException {
    List<JsonNode> all = new ArrayList<>();
    for (String file : List.of("frontend-deployment.yaml", "worker-deployment.yaml")) {
      all.addAll(documents(deploy().resolve("k8s").resolve(file)));
    }
    JsonNode frontend = find(all, "Deployment", "bert-frontend");
    JsonNode worker = find(all, "Deployment", "bert-worker");
    Config kubernetes =
        ClusterConfFilesTest.load(ClusterConfFilesTest.dir().resolve("kubernetes.conf"));
    String discovery = "akka.management.cluster.bootstrap.contact-point-discovery.";
    String selector =
        String.format(
            kubernetes.getString("akka.discovery.kubernetes-api.pod-label-selector"),
            kubernetes.getString(discovery + "service-name"));
    assertTrue(selects(selector, frontend.at("/spec/template/metadata/labels")), selector);
    assertFalse(selects(selector, worker.at("/spec/template/metadata/labels")), selector);
    assertEquals(
        frontend.at("/spec/replicas").asInt(),
        kubernetes.getInt(discovery + "required-contact-point-nr"),
        "the first cluster forms once every frontend is seen");
    assertTrue(
        kubernetes.getDuration("bert-serving.cluster.rejoin-without-frontend-after").toSeconds()
            > 0,
        "workers no frontend can find leave a cluster without frontends");

    assertEquals("RollingUpdate", worker.at("/spec/strategy/type").asText());
    assertEquals(0, worker.at("/spec/strategy/rollingUpdate/maxSurge").asInt(), "no spare GPU");

    JsonNode container = frontend.at("/spec/template/spec/containers/0");
    JsonNode preStop = container.at("/lifecycle/preStop/exec/command");
    assertEquals("sleep", preStop.get(0).asText(), preStop.toString());
    int wait = preStop.get(1).asInt();
    assertTrue(wait >= 3, "long enough for the endpoints to drop the pod: " + wait);
    assertTrue(
        frontend.at("/spec/template/spec/terminationGracePeriodSeconds").asInt()
            >= wait + REQUEST_TIMEOUT_SECONDS + 35,
        "the wait, then the graceful stop, within the grace period");

    List<String> tags = new ArrayList<>();
    java.util.regex.Matcher tag =
        java.util.regex.Pattern.compile(" -t REGISTRY/(\\S+)")
            .matcher(Files.readString(deploy().resolve("container").resolve("Containerfile")));
    while (tag.find()) {
      tags.add(tag.group(1));
    }
    String cpuImage = container.at("/image").asText();
    String gpuImage = worker.at("/spec/template/spec/containers/0/image").asText();
    assertTrue(
        tags.contains(cpuImage) && tags.contains(gpuImage),
        tags + " tag " + cpuImage + ", " + gpuImage);
    assertTrue(
        gpuImage.endsWith("-gpu") && !cpuImage.endsWith("-gpu"), "the workers' is the GPU image");
  }

  /** Whether the label selector {@code k=v,k=v} selects pods labelled {@code labels}. */
  static boolean selects(String selector, JsonNode labels) {
    for (String term : selector.split(",")) {
      String[] kv = term.trim().split("=", 2);
      if (!labels.path(kv[0]).asText("").equals(kv[1])) {
        return false;
      }
    }
    return true;
  }

  static List<Integer> ports(JsonNode container) {
    List<Integer> ports = new ArrayList<>();
    container.path("ports").forEach(p -> ports.add(p.path("containerPort").asInt()));
    return ports;
  }

  static JsonNode find(List<JsonNode> docs, String kind, String name) {
    return docs.stream()
        .filter(
            d ->
                d.path("kind").asText().equals(kind)
                    && d.at("/metadata/name").asText().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
  }

  @Test
  void theSystemdUnitAndTheContainerFileRunTheStartCommand() throws IOException {
    List<String> unit =
        Files.readAllLines(deploy().resolve("systemd").resolve("bert-serving.service"));
    for (String section : List.of("[Unit]", "[Service]", "[Install]")) {
      assertTrue(unit.contains(section), section);
    }
    assertTrue(
        unit.stream()
            .anyMatch(l -> l.startsWith("ExecStart=") && l.contains("ops/bert-serving-start")));
    assertTrue(unit.contains("KillSignal=SIGTERM"));
    assertTrue(unit.contains("Restart=on-failure"), "a failed start is restarted");
    assertTrue(unit.contains("SuccessExitStatus=143"), "a SIGTERM is never a failure");
    int stopSeconds =
        unit.stream()
            .filter(l -> l.startsWith("TimeoutStopSec="))
            .map(l -> Integer.parseInt(l.substring("TimeoutStopSec=".length())))
            .findFirst()
            .orElseThrow();
    assertTrue(stopSeconds >= REQUEST_TIMEOUT_SECONDS + 35, "SIGKILL only after a frontend's stop");
    assertFalse(unit.stream().anyMatch(l -> l.equals("User=root")));
    // several machines: the example sets the address other nodes reach (the default is loopback),
    // and the TLS stores' variables come from a file the unit reads
    assertTrue(unit.stream().anyMatch(l -> l.contains("akka.remote.artery.canonical.hostname")));
    assertTrue(unit.stream().anyMatch(l -> l.startsWith("EnvironmentFile=")));

    List<String> image = Files.readAllLines(deploy().resolve("container").resolve("Containerfile"));
    assertEquals(2, image.stream().filter(l -> l.startsWith("FROM ")).count(), "multi-stage");
    assertTrue(image.stream().anyMatch(l -> l.startsWith("RUN mvn ")), "built by Maven");
    String user =
        image.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElse("USER root");
    assertFalse(user.endsWith("root") || user.endsWith(" 0"), "runs as non-root: " + user);
    assertTrue(image.stream().anyMatch(l -> l.contains("org.bertserving.cli.Main")));
  }
}
