package org.bertserving.engine;

import java.util.List;

/**
 * One text as the model sees it, unpadded: word-piece ids, segment ids and input mask, with the
 * tokens they came from (including {@code [CLS]}/{@code [SEP]}) for {@code show_tokens}.
 */
public record InputFeatures(
    int[] inputIds, int[] segmentIds, int[] inputMask, List<String> tokens) {

  public int length() {
    return inputIds.length;
  }
}
