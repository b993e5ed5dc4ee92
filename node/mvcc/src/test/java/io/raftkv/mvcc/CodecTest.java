package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The on-disk key encoding keeps etcd's key order and round-trips. */
class CodecTest {

  @Provide
  Arbitrary<byte[]> keys() {
    return Arbitraries.of((byte) 0, (byte) 1, (byte) 0x7f, (byte) 0xff).array(byte[].class)
        .ofMinSize(1).ofMaxSize(5);
  }

  @Property(tries = 500)
  void encodedKeysSortLikeUserKeysWhateverTheirRevisions(
      @ForAll("keys") byte[] a, @ForAll("keys") byte[] b,
      @ForAll long revA, @ForAll long revB) {
    int userOrder = Integer.signum(Arrays.compareUnsigned(a, b));
    byte[] ka = Codec.kvKey(Codec.encodeKey(a), revA & Long.MAX_VALUE, 0);
    byte[] kb = Codec.kvKey(Codec.encodeKey(b), revB & Long.MAX_VALUE, 0);
    if (userOrder != 0) {
      assertThat(Integer.signum(Arrays.compareUnsigned(ka, kb))).isEqualTo(userOrder);
    }
  }

  @Property(tries = 300)
  void newerRevisionsOfAKeySortFirst(@ForAll("keys") byte[] a,
      @ForAll long main1, @ForAll long main2, @ForAll int sub1, @ForAll int sub2) {
    long m1 = main1 & Long.MAX_VALUE;
    long m2 = main2 & Long.MAX_VALUE;
    long s1 = sub1 & Integer.MAX_VALUE;
    long s2 = sub2 & Integer.MAX_VALUE;
    byte[] enc = Codec.encodeKey(a);
    int revOrder = m1 != m2 ? Long.compare(m1, m2) : Long.compare(s1, s2);
    int keyOrder = Arrays.compareUnsigned(Codec.kvKey(enc, m1, s1), Codec.kvKey(enc, m2, s2));
    assertThat(Integer.signum(keyOrder)).isEqualTo(-Integer.signum(revOrder));
  }

  @Property(tries = 300)
  void kvKeysRoundTrip(@ForAll("keys") byte[] a, @ForAll long main, @ForAll int sub) {
    long m = main & Long.MAX_VALUE;
    long s = sub & Integer.MAX_VALUE;
    byte[] k = Codec.kvKey(Codec.encodeKey(a), m, s);
    assertThat(Codec.userKeyOf(k)).isEqualTo(a);
    assertThat(Codec.revisionOf(k)).isEqualTo(m);
    assertThat(Codec.subRevisionOf(k)).isEqualTo(s);
    assertThat(Codec.sameKey(k, Codec.encodeKey(a))).isTrue();
    assertThat(Arrays.compareUnsigned(Codec.kvKeyAtOrBelow(Codec.encodeKey(a), m), k))
        .isLessThanOrEqualTo(0);
  }

  @Property(tries = 200)
  void prefixEndIsAboveEveryKeyWithThePrefix(@ForAll("keys") byte[] prefix,
      @ForAll("keys") byte[] suffix) {
    Bytes p = Bytes.of(prefix);
    byte[] joined = Arrays.copyOf(prefix, prefix.length + suffix.length);
    System.arraycopy(suffix, 0, joined, prefix.length, suffix.length);
    Bytes end = p.prefixEnd();
    assertThat(Requests.inRange(p, end, Bytes.of(joined))).isTrue();
  }
}
