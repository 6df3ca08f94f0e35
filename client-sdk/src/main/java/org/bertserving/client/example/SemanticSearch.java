package org.bertserving.client.example;

import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.bertserving.client.BertClient;

/**
 * Semantic search over a handful of sentences: the closest ones to a query by cosine similarity, as
 * in bert-as-service's README. Run against a server: {@code java -cp client-sdk.jar:jackson-*.jar
 * org.bertserving.client.example.SemanticSearch 127.0.0.1 8125 "how do I cook rice?"}
 */
public final class SemanticSearch {
  static final List<String> SENTENCES =
      List.of(
          "How to cook rice in a pot",
          "The best way to boil pasta",
          "Stock markets fell sharply today",
          "Central banks raised interest rates",
          "My cat sleeps all day on the sofa",
          "Dogs need a walk every morning",
          "How long should rice simmer?",
          "The football team won the championship");

  private SemanticSearch() {}

  public static void main(String[] args) {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 8125;
    String query = args.length > 2 ? args[2] : "how do I cook rice?";
    int k = 3;
    try (BertClient bc = BertClient.http(host, port)) {
      float[][] docs = bc.encode(SENTENCES);
      float[] q = bc.encode(List.of(query))[0];
      System.out.println("query: " + query);
      IntStream.range(0, docs.length)
          .boxed()
          .sorted(Comparator.comparingDouble(i -> -cosine(q, docs[i])))
          .limit(k)
          .forEach(i -> System.out.printf("%.4f  %s%n", cosine(q, docs[i]), SENTENCES.get(i)));
    }
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
