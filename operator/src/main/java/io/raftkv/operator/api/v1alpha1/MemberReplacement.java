package io.raftkv.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

import java.time.Duration;

/**
 * When a failed member is replaced: a member unhealthy for longer than {@code unhealthyAfter}, or
 * one whose data dir is gone, is removed and a fresh member with the same name added in one joint
 * configuration change.
 */
public class MemberReplacement {

    @JsonPropertyDescription("Replace failed members automatically.")
    @Default("true")
    private boolean enabled = true;

    @JsonPropertyDescription("How long a member must stay unhealthy before it is replaced, e.g. 5m, 90s, 1h30m.")
    @Default("5m")
    @Pattern("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$")
    private String unhealthyAfter = "5m";

    /** Whether replacement is on. */
    public boolean isEnabled() {
        return enabled;
    }

    /** Turns replacement on or off. */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** The unhealthy duration as written, e.g. {@code 5m}. */
    public String getUnhealthyAfter() {
        return unhealthyAfter;
    }

    /** Sets the unhealthy duration. */
    public void setUnhealthyAfter(String unhealthyAfter) {
        this.unhealthyAfter = unhealthyAfter;
    }

    /**
     * Parses a duration in the schema's {@code 1h30m15s} form.
     *
     * @throws IllegalArgumentException if the text is not of that form or is empty
     */
    public static Duration parseDuration(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")
                .matcher(text == null ? "" : text);
        if (text == null || text.isEmpty() || !m.matches()) {
            throw new IllegalArgumentException("not a duration like 5m or 1h30m: '" + text + "'");
        }
        Duration d = Duration.ZERO;
        if (m.group(1) != null) {
            d = d.plusHours(Long.parseLong(m.group(1)));
        }
        if (m.group(2) != null) {
            d = d.plusMinutes(Long.parseLong(m.group(2)));
        }
        if (m.group(3) != null) {
            d = d.plusSeconds(Long.parseLong(m.group(3)));
        }
        return d;
    }
}
