package org.bertserving.client;

import akka.actor.ActorPaths;
import akka.actor.ActorRef;
import akka.actor.ActorSystem;
import akka.actor.CoordinatedShutdown;
import akka.cluster.client.ClusterClient;
import akka.cluster.client.ClusterClientSettings;
import akka.pattern.Patterns;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeReply;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.client.protocol.StatusReply;
import org.bertserving.client.protocol.StatusRequest;

/**
 * {@link BertClient} through Akka's cluster client, for JVMs next to the cluster: no HTTP, the
 * SDK's own records as CBOR. The client runs a small actor system of its own, which the cluster
 * must be able to reach at {@code clientHost}. A call made before any contact point has answered
 * waits for one at most {@link #CONTACT} (or the timeout, if shorter), then fails naming the
 * contact points and the transport each side must speak, instead of timing out without a word.
 */
final class ClusterBertClient implements BertClient {
  /** How long {@link #close()} waits for the actor system after its shutdown's phases. */
  static final Duration TERMINATED_GRACE = Duration.ofSeconds(2);

  private static final System.Logger LOG = System.getLogger(ClusterBertClient.class.getName());

  private static final String GATEWAY = "/user/bert-gateway";
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** How long a call waits for the first contact point to answer. */
  static final Duration CONTACT = Duration.ofSeconds(10);

  private final ActorSystem system;
  private final ActorRef clusterClient;
  private final Duration timeout;
  private final int retries;
  private final Set<akka.actor.ActorPath> initial = new HashSet<>();

  /**
   * The first answer of the cluster (a status), asked once, or again after it failed: whether a
   * contact point answers at all. Akka's cluster client keeps a request while it looks for one, so
   * without this a wrong address or transport shows only as a timeout.
   */
  private CompletableFuture<Void> reached;

  private ClusterBertClient(
      List<String> contacts, String clientHost, Duration timeout, int retries, Config user) {
    Config config =
        ConfigFactory.parseString(
                String.join(
                    "\n",
                    "akka.actor.provider = remote",
                    "akka.remote.artery.canonical.hostname = \"" + clientHost + "\"",
                    "akka.remote.artery.canonical.port = 0",
                    "akka.remote.artery.advanced.maximum-frame-size = 32 MiB",
                    "akka.actor.allow-java-serialization = off",
                    "akka.actor.serialization-bindings {",
                    "  \"org.bertserving.client.protocol.WireMessage\" = jackson-cbor",
                    "}",
                    "akka.coordinated-shutdown.exit-jvm = off",
                    "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off"))
            .withFallback(user)
            .withFallback(ConfigFactory.load());
    this.system = ActorSystem.create("bert-client", config);
    for (String contact : contacts) {
      initial.add(ActorPaths.fromString("akka://bert-serving@" + contact + "/system/receptionist"));
    }
    this.clusterClient =
        system.actorOf(
            ClusterClient.props(ClusterClientSettings.create(system).withInitialContacts(initial)),
            "cluster-client");
    this.timeout = timeout;
    this.retries = retries;
  }

  /** Why no contact point answered: where the client looked, and what each side must speak. */
  private BertClientException unreached(Duration waited) {
    String transport = system.settings().config().getString("akka.remote.artery.transport");
    return new BertClientException(
        "no contact point of the cluster answered within "
            + waited.toSeconds()
            + " s ("
            + initial
            + "): is a frontend node up there, and can it reach this client at "
            + system.provider().getDefaultAddress()
            + "? This client speaks Artery over "
            + transport
            + "; a cluster that runs cluster-conf/tls.conf needs tls-tcp here too, with a key"
            + " store that the cluster's CA signed (BertClient.cluster(..., config))");
  }

  /**
   * @param contacts {@code host:port} of cluster nodes with the frontend role
   */
  static BertClient create(
      List<String> contacts, String clientHost, Duration timeout, int retries, Config config) {
    if (contacts.isEmpty()) {
      throw new IllegalArgumentException("no cluster contact: give host:port of a frontend node");
    }
    return new ClusterBertClient(contacts, clientHost, timeout, retries, config);
  }

  @Override
  public float[][] encode(List<String> texts) {
    return Outcomes.pooled(encode(texts, EncodeOptions.DEFAULT));
  }

  @Override
  public EncodeResult encode(List<?> inputs, EncodeOptions options) {
    return Outcomes.join(encodeAsync(inputs, options, 0));
  }

  @Override
  public CompletableFuture<float[][]> encodeAsync(List<String> texts) {
    return encodeAsync(texts, EncodeOptions.DEFAULT, 0).thenApply(Outcomes::pooled);
  }

  private CompletableFuture<EncodeResult> encodeAsync(
      List<?> inputs, EncodeOptions options, int attempt) {
    Outcomes.validate(inputs, options.isTokenized());
    EncodeRequest request =
        EncodeRequest.of(null, inputs, options.isTokenized(), options.showTokens())
            .with(options.prompt(), options.normalize(), options.dimensions())
            .withModel(options.model());
    return ask(request)
        .thenCompose(
            answer -> {
              if (answer instanceof EncodeReply reply) {
                return CompletableFuture.completedFuture(
                    Outcomes.whole(Outcomes.result(reply), inputs.size()));
              }
              EncodeFailure f = (EncodeFailure) answer;
              if ((f.status() == 429 || f.status() == 503) && attempt < retries) {
                // at least a second, at most as long as the HTTP transport would wait
                long wait = Attempts.waitMillis(Math.max(1, f.retryAfterSeconds()));
                return CompletableFuture.supplyAsync(
                        () -> null,
                        CompletableFuture.delayedExecutor(
                            wait, java.util.concurrent.TimeUnit.MILLISECONDS))
                    .thenCompose(x -> encodeAsync(inputs, options, attempt + 1));
              }
              throw Outcomes.failure(f.status(), f.type(), f.description());
            });
  }

  @Override
  public ServerStatus serverStatus() {
    Object answer = Outcomes.join(ask(StatusRequest.INSTANCE));
    if (answer instanceof EncodeFailure f) {
      throw Outcomes.failure(f.status(), f.type(), f.description());
    }
    StatusReply reply = (StatusReply) answer;
    return new ServerStatus(
        JSON.convertValue(
            reply.status(),
            new com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, Object>>() {}));
  }

  private CompletableFuture<Object> ask(Object message) {
    return contact().thenCompose(ok -> send(message, timeout));
  }

  private synchronized CompletableFuture<Void> contact() {
    if (reached == null || reached.isCompletedExceptionally()) {
      Duration wait = timeout.compareTo(CONTACT) < 0 ? timeout : CONTACT;
      reached =
          send(StatusRequest.INSTANCE, wait)
              .handle(
                  (answer, e) -> {
                    if (e != null) {
                      throw unreached(wait);
                    }
                    return null;
                  });
    }
    return reached;
  }

  private CompletableFuture<Object> send(Object message, Duration timeout) {
    // handled on the client system's dispatcher: callbacks on Akka's futures would otherwise run
    // on the JDK's default pool (a new thread each on two cores)
    return Patterns.ask(clusterClient, new ClusterClient.Send(GATEWAY, message, true), timeout)
        .toCompletableFuture()
        .handleAsync(
            (answer, e) -> {
              if (e == null) {
                return answer;
              }
              Throwable cause = e.getCause() != null ? e.getCause() : e;
              if (cause instanceof TimeoutException
                  || cause instanceof akka.pattern.AskTimeoutException) {
                throw new BertTimeoutException(
                    "no answer from the cluster within " + timeout.toMillis() + " ms", cause);
              }
              throw new BertClientException("cluster client failed: " + cause, cause);
            },
            system.dispatcher());
  }

  /**
   * Stops the client's actor system, waiting for its coordinated shutdown (every phase bounded by
   * its timeout) and then {@link #TERMINATED_GRACE} at most: Akka's remoting over TLS was seen to
   * leave a system that never reported itself terminated, and close() waited for it for good.
   */
  @Override
  public void close() {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    try {
      shutdown
          .runAll(CoordinatedShutdown.actorSystemTerminateReason())
          .toCompletableFuture()
          .get(
              shutdown.totalTimeout().toMillis() + TERMINATED_GRACE.toMillis(),
              TimeUnit.MILLISECONDS);
      system
          .getWhenTerminated()
          .toCompletableFuture()
          .get(TERMINATED_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "the cluster client''s actor system {0} did not terminate within {1} ms of its"
              + " shutdown (Akka''s remoting still closing its connections); closed without it",
          system.name(),
          TERMINATED_GRACE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // it ended, with an error of its own
    }
  }
}
