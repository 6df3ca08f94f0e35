package org.bertserving.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** The SDK's HTTP transport: JDK HttpClient and Jackson only. */
class BertClientHttpTest extends BertClientContractTest {
  @Override
  BertClient connect(Node node, int retries) {
    return BertClient.builder()
        .http(URI.create("http://127.0.0.1:" + node.httpPort()))
        .retries(retries)
        .build();
  }

  @Test
  void warnsAboutTextsLongerThanTheServersMaxSeqLen() {
    List<String> messages = new ArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            messages.add(
                java.text.MessageFormat.format(record.getMessage(), record.getParameters()));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger logger = Logger.getLogger(BertClient.class.getName());
    logger.addHandler(capture);
    try {
      client.encode(List.of("short", "the dog ".repeat(10).strip()));
    } finally {
      logger.removeHandler(capture);
    }
    assertTrue(
        messages.stream().anyMatch(m -> m.contains("[1]") && m.contains("max_seq_len 16")),
        "warning: " + messages);
  }
}
