package org.bertserving.client;

import java.time.Duration;
import java.util.List;

/** The SDK's cluster transport: Akka's cluster client to the frontend's gateway. */
class BertClientClusterTest extends BertClientContractTest {
  @Override
  BertClient connect(Node node, int retries) {
    return BertClient.cluster(
        List.of("127.0.0.1:" + node.clusterPort()), "127.0.0.1", Duration.ofSeconds(60), retries);
  }
}
