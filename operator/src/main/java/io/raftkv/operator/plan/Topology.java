package io.raftkv.operator.plan;

import java.util.OptionalInt;

/**
 * How members are named and addressed: member {@code i} is pod {@code i} of the StatefulSet, with a
 * stable name and peer URL. Implementations must be pure functions of the ordinal.
 */
public interface Topology {

    /** The largest ordinal a cluster can use (the CRD allows at most 7 members). */
    int MAX_ORDINALS = 8;

    /** Member (and pod) name of ordinal {@code i}. */
    String memberName(int ordinal);

    /** Advertised peer URL of ordinal {@code i}. */
    String peerUrl(int ordinal);

    /** Client URL of ordinal {@code i}, where the operator reaches that member's API. */
    String clientUrl(int ordinal);

    /** The ordinal whose peer URL is {@code url}, if any. */
    default OptionalInt ordinalOf(String url) {
        for (int i = 0; i < MAX_ORDINALS; i++) {
            if (peerUrl(i).equals(url)) {
                return OptionalInt.of(i);
            }
        }
        return OptionalInt.empty();
    }
}
