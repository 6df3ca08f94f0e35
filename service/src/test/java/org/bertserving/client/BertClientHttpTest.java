package org.bertserving.client;

import java.net.URI;

/** The SDK's HTTP transport: JDK HttpClient and Jackson only. */
class BertClientHttpTest extends BertClientContractTest {
  @Override
  BertClient connect(Node node, int retries) {
    return BertClient.builder().http(URI.create("http://127.0.0.1:" + node.httpPort()))
        .retries(retries).build();
  }
}
