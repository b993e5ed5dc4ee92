package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model comparison catches a difference: fed a deliberately broken model, it fails. */
class ModelCheckerTest {

  @TempDir Path dir;

  @Test
  void harnessRejectsAModelThatDropsTheMoreFlag() {
    List<KvStoreModelPropertyTest.Op> program = List.of(
        new KvStoreModelPropertyTest.Put(PutRequest.of(Bytes.of("a"), Bytes.of("1"))),
        new KvStoreModelPropertyTest.Put(PutRequest.of(Bytes.of("b"), Bytes.of("1"))),
        new KvStoreModelPropertyTest.Get(RangeRequest.all().withLimit(1)));
    assertThatThrownBy(() -> {
      try (KvStoreModelPropertyTest.Harness h =
          new KvStoreModelPropertyTest.Harness(dir, ModelKvStore.brokenMoreFlag())) {
        for (KvStoreModelPropertyTest.Op op : program) {
          h.step(op);
        }
      }
    }).isInstanceOf(AssertionError.class).hasMessageContaining("more=true");
  }
}
