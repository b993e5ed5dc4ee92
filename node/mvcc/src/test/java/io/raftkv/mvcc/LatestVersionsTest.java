package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class LatestVersionsTest {

  @Test
  void remembersWhereLiveVersionsAreWhatTheyAreAndAbsence() {
    LatestVersions cache = new LatestVersions(1 << 20);
    assertThat(cache.get(Bytes.of("a"))).isNull();
    cache.live(new KeyValue(Bytes.of("a"), 3, 7, 4, Bytes.of("value"), 9), 2);
    cache.absent(Bytes.of("b"));
    LatestVersions.Slot a = cache.get(Bytes.of("a"));
    assertThat(a.absent()).isFalse();
    assertThat(List.of(a.modRevision(), a.subRevision(), a.createRevision(), a.version(), a.lease()))
        .containsExactly(7L, 2L, 3L, 4L, 9L);
    assertThat(a.valueSize()).isEqualTo(5);
    assertThat(cache.get(Bytes.of("b")).absent()).isTrue();
    // An update rewrites the key's slot in place: no allocation per write.
    cache.live(new KeyValue(Bytes.of("a"), 3, 8, 5, Bytes.of("v"), 0), 0);
    assertThat(cache.get(Bytes.of("a"))).isSameAs(a);
    assertThat(List.of(a.modRevision(), a.version(), a.lease())).containsExactly(8L, 5L, 0L);
    assertThat(a.valueSize()).isEqualTo(1);
    cache.absent(Bytes.of("a"));
    assertThat(cache.get(Bytes.of("a")).absent()).isTrue();
    assertThat(cache.bytes()).isEqualTo(2L * (LatestVersions.OVERHEAD_BYTES + 1));
    assertThatThrownBy(() -> cache.live(kv("c", 0), 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void staysWithinItsBytesAndEvictsTheLeastRecentlyUsedFirst() {
    long entry = LatestVersions.OVERHEAD_BYTES + 1;
    LatestVersions cache = new LatestVersions(3 * entry);
    cache.live(kv("a", 2), 0);
    cache.live(kv("b", 3), 0);
    cache.live(kv("c", 4), 0);
    assertThat(cache.get(Bytes.of("a"))).isNotNull(); // a is now the most recently used
    cache.live(kv("d", 5), 0);
    assertThat(cache.get(Bytes.of("b"))).isNull();
    assertThat(cache.get(Bytes.of("a"))).isNotNull();
    assertThat(cache.get(Bytes.of("c"))).isNotNull();
    assertThat(cache.get(Bytes.of("d"))).isNotNull();
    assertThat(cache.size()).isEqualTo(3);
    assertThat(cache.bytes()).isEqualTo(3 * entry);
    cache.live(kv("x".repeat(10_000), 6), 0);
    assertThat(cache.bytes()).isLessThanOrEqualTo(3 * entry);
  }

  @Test
  void aZeroBudgetCachesNothing() {
    LatestVersions cache = new LatestVersions(0);
    cache.live(kv("a", 2), 0);
    assertThat(cache.get(Bytes.of("a"))).isNull();
    assertThat(cache.size()).isZero();
  }

  private static KeyValue kv(String key, long revision) {
    return new KeyValue(Bytes.of(key), revision, revision, 1, Bytes.of("v"), 0);
  }
}
