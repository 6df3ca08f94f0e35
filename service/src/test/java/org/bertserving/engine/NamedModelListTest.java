package org.bertserving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@code ops/bert-serving-start} asks before it starts a node: the artifacts still to fetch of
 * every model a {@code -model a,b} list names (the tests have these models on their class path:
 * none to fetch), and the refusal of a name that is no model's, naming it.
 */
class NamedModelListTest {
  @Test
  void aListOfModelsIsCheckedModelByModel() {
    assertEquals(List.of(), NamedModel.missing("all-minilm-l6-v2, e5-small-v2"));
    assertEquals(List.of(), NamedModel.missing("bert-base-uncased"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> NamedModel.missing("all-minilm-l6-v2,nope"));
    assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
  }
}
