package org.bertserving.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.PostStop;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A node's stop is bounded even when its actor system does not end: Akka 2.6's remoting waits for
 * its streams without a deadline when it terminates, and worker nodes were seen to hang there after
 * SIGTERM for the whole 90 s the stop used to allow. Here a system actor that does not stop stands
 * for that stream.
 */
class StopBoundTest {

  @Test
  void closeReturnsSoonAfterTheLastShutdownPhaseWhenTheSystemDoesNotEnd() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    BertServer node = TestNodes.start(TestNodes.node(List.of("worker"), 0, true, Map.of()));
    try {
      CompletableFuture<Void> spawned = new CompletableFuture<>();
      node.system()
          .systemActorOf(
              Behaviors.setup(
                  context -> {
                    spawned.complete(null);
                    return Behaviors.receive(Object.class)
                        .onSignal(
                            PostStop.class,
                            s -> {
                              release.await(5, TimeUnit.MINUTES); // a stop that does not end
                              return Behaviors.same();
                            })
                        .build();
                  }),
              "does-not-stop",
              Props.empty());
      spawned.get(10, TimeUnit.SECONDS);

      CompletableFuture<Void> closed = CompletableFuture.runAsync(node::close);

      // the phases here: leaving (~1 s) and actor-system-terminate (10 s); then 2 s more. The
      // stop used to wait request-timeout + 30 s (90 s) for the system to end.
      Duration bound = Duration.ofSeconds(45);
      closed.get(bound.toSeconds(), TimeUnit.SECONDS);
      assertFalse(node.system().whenTerminated().isCompleted(), "the system itself had not ended");
    } finally {
      release.countDown();
      node.close();
    }
    assertTrue(node.system().getWhenTerminated().toCompletableFuture().isDone());
  }
}
