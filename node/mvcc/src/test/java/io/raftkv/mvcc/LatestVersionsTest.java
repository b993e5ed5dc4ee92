package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatestVersionsTest {

  private static KeyValue kv(String key, String value, long rev) {
    return new KeyValue(Bytes.of(key), rev, rev, 1, Bytes.of(value), 0);
  }

  @Test
  void remembersLiveVersionsAndAbsence() {
    LatestVersions cache = new LatestVersions(1 << 20);
    assertThat(cache.get(Bytes.of("a"))).isNull();
    cache.put(Bytes.of("a"), kv("a", "1", 2));
    cache.put(Bytes.of("b"), null);
    assertThat(cache.get(Bytes.of("a")).kv()).isEqualTo(kv("a", "1", 2));
    assertThat(cache.get(Bytes.of("b"))).isNotNull();
    assertThat(cache.get(Bytes.of("b")).kv()).isNull();
    cache.put(Bytes.of("a"), null);
    assertThat(cache.get(Bytes.of("a")).kv()).isNull();
    assertThat(cache.bytes()).isEqualTo(2L * (LatestVersions.OVERHEAD_BYTES + 1));
  }

  @Test
  void staysWithinItsBytesAndEvictsTheLeastRecentlyUsedFirst() {
    long entry = LatestVersions.OVERHEAD_BYTES + 1 + 10;
    LatestVersions cache = new LatestVersions(3 * entry);
    cache.put(Bytes.of("a"), kv("a", "0123456789", 2));
    cache.put(Bytes.of("b"), kv("b", "0123456789", 3));
    cache.put(Bytes.of("c"), kv("c", "0123456789", 4));
    assertThat(cache.get(Bytes.of("a"))).isNotNull(); // a is now the most recently used
    cache.put(Bytes.of("d"), kv("d", "0123456789", 5));
    assertThat(cache.get(Bytes.of("b"))).isNull();
    assertThat(cache.get(Bytes.of("a"))).isNotNull();
    assertThat(cache.get(Bytes.of("c"))).isNotNull();
    assertThat(cache.get(Bytes.of("d"))).isNotNull();
    assertThat(cache.bytes()).isLessThanOrEqualTo(3 * entry);
    cache.put(Bytes.of("big"), kv("big", "x".repeat(10_000), 6));
    assertThat(cache.bytes()).isLessThanOrEqualTo(3 * entry);
    assertThat(cache.get(Bytes.of("big"))).isNull();
  }

  @Test
  void aZeroBudgetCachesNothing() {
    LatestVersions cache = new LatestVersions(0);
    cache.put(Bytes.of("a"), kv("a", "1", 2));
    assertThat(cache.get(Bytes.of("a"))).isNull();
    assertThat(cache.size()).isZero();
  }
}
