package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LatestVersionsTest {

  @Test
  void remembersWhereLiveVersionsAreAndAbsence() {
    LatestVersions cache = new LatestVersions(1 << 20);
    assertThat(cache.get(Bytes.of("a"))).isNull();
    cache.live(Bytes.of("a"), 7, 2);
    cache.absent(Bytes.of("b"));
    assertThat(cache.get(Bytes.of("a"))).isEqualTo(new LatestVersions.Slot(7, 2));
    assertThat(cache.get(Bytes.of("a")).absent()).isFalse();
    assertThat(cache.get(Bytes.of("b")).absent()).isTrue();
    cache.absent(Bytes.of("a"));
    assertThat(cache.get(Bytes.of("a")).absent()).isTrue();
    assertThat(cache.bytes()).isEqualTo(2L * (LatestVersions.OVERHEAD_BYTES + 1));
    assertThatThrownBy(() -> cache.live(Bytes.of("c"), 0, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void staysWithinItsBytesAndEvictsTheLeastRecentlyUsedFirst() {
    long entry = LatestVersions.OVERHEAD_BYTES + 1;
    LatestVersions cache = new LatestVersions(3 * entry);
    cache.live(Bytes.of("a"), 2, 0);
    cache.live(Bytes.of("b"), 3, 0);
    cache.live(Bytes.of("c"), 4, 0);
    assertThat(cache.get(Bytes.of("a"))).isNotNull(); // a is now the most recently used
    cache.live(Bytes.of("d"), 5, 0);
    assertThat(cache.get(Bytes.of("b"))).isNull();
    assertThat(cache.get(Bytes.of("a"))).isNotNull();
    assertThat(cache.get(Bytes.of("c"))).isNotNull();
    assertThat(cache.get(Bytes.of("d"))).isNotNull();
    assertThat(cache.size()).isEqualTo(3);
    assertThat(cache.bytes()).isEqualTo(3 * entry);
    cache.live(Bytes.of("x".repeat(10_000)), 6, 0);
    assertThat(cache.bytes()).isLessThanOrEqualTo(3 * entry);
  }

  @Test
  void aZeroBudgetCachesNothing() {
    LatestVersions cache = new LatestVersions(0);
    cache.live(Bytes.of("a"), 2, 0);
    assertThat(cache.get(Bytes.of("a"))).isNull();
    assertThat(cache.size()).isZero();
  }
}
