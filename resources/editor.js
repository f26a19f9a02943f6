/*
 * node-red-contrib-fail2ban: helpers shared by the editor dialogs of the package's nodes.
 *
 * Node-RED serves this file at resources/node-red-contrib-fail2ban/editor.js; each node's editor
 * HTML loads it with <script src="resources/node-red-contrib-fail2ban/editor.js"></script> before
 * its RED.nodes.registerType script. Every one of them loads it, so it may run several times: the
 * first run defines window.F2B and later runs keep that object.
 *
 * Validator factories (rule, duration) return function (v, opt) with exactly two parameters:
 * Node-RED only takes a returned string as the error message when validate.length === 2.
 */
window.F2B = window.F2B || (function () {
    "use strict";

    var MODULE = "node-red-contrib-fail2ban";

    // t("errors.x", opts) for one node type: RED._("node-red-contrib-fail2ban/<type>:<type>.errors.x").
    function i18n(type) {
        var prefix = MODULE + "/" + type + ":" + type + ".";
        return function (key, opts) {
            return RED._(prefix + key, opts);
        };
    }

    function str(v) {
        return String(v === undefined || v === null ? "" : v);
    }

    // Non-empty trimmed lines of a multi-line field.
    function lines(v) {
        return str(v).split(/\r?\n/)
            .map(function (s) { return s.trim(); })
            .filter(function (s) { return s !== ""; });
    }

    // Entries separated by spaces, commas or new lines.
    function words(v) {
        return str(v).split(/[\s,]+/).filter(function (s) { return s !== ""; });
    }

    // Reads the value being edited when the dialog is open, else the saved one.
    function current(node, prop) {
        var el = $("#node-input-" + prop);
        return el.length ? el.val() : node[prop];
    }

    // ${NAME}: Node-RED replaces it with an environment variable when the flow starts.
    function isEnvVar(s) {
        return /^\$\{[^}]+\}$/.test(s);
    }

    // A validator: true when test(v) holds (called with the node as this), else the message key.
    function rule(t, key, test) {
        return function (v, opt) {
            if (test.call(this, v)) { return true; }
            return opt ? t(key) : false;
        };
    }

    // A whole number, e.g. "5". Options: zero (accept 0 and leading zeros: /^\d+$/ rather than
    // /^[1-9]\d*$/), empty (accept ""), envVar (accept ${NAME}).
    function isWholeNumber(v, options) {
        var o = options || {};
        var s = str(v).trim();
        if (o.empty && s === "") { return true; }
        if (o.envVar && isEnvVar(s)) { return true; }
        return o.zero ? /^\d+$/.test(s) : /^[1-9]\d*$/.test(s);
    }

    // fail2ban's time units (MyTime.str2seconds): 1h30m, 1d, 2 weeks, 1mo, 1y ...
    var UNIT = /^(?:y|yy|years?|mo|mon|months?|w|ww|weeks?|d|dd|days?|h|hh|hours?|m|mm|mi|min|minutes?|s|ss|sec|seconds?)$/i;

    // A number of seconds or a fail2ban time string. allowForever: a ban length, where -1 means for
    // ever and a length of 0 is refused.
    function isDuration(v, allowForever) {
        if (typeof v === "number") { return v >= 0 || (allowForever && v === -1); }
        var s = str(v).trim();
        if (s === "") { return false; }
        if (isEnvVar(s)) { return true; }
        if (allowForever && s === "-1") { return true; }
        if (allowForever && !/[1-9]/.test(s)) { return false; } // a ban of 0 seconds bans nobody
        if (/^\d+(\.\d+)?$/.test(s)) { return true; }
        // Otherwise every number needs its unit: "1h30m", "1h 30m", "2 weeks".
        var term = /\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)/y;
        term.lastIndex = 0;
        while (term.lastIndex < s.length) {
            var m = term.exec(s);
            if (!m || !UNIT.test(m[2])) { return false; }
        }
        return true;
    }

    // A duration validator. allowEmpty accepts ""; key defaults to "errors.bantime" with
    // allowForever, else "errors.duration".
    function duration(t, allowForever, allowEmpty, key) {
        var message = key || (allowForever ? "errors.bantime" : "errors.duration");
        return function (v, opt) {
            if (allowEmpty && str(v).trim() === "") { return true; }
            if (isDuration(v, allowForever)) { return true; }
            return opt ? t(message) : false;
        };
    }

    // One TCP/UDP port, 1 to 65535, or ${NAME}.
    function isPort(v) {
        var s = str(v).trim();
        return isEnvVar(s) || (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535);
    }

    // "22", "80,443", "1000:2000", "1000-2000"; empty (every port) and ${NAME} are accepted.
    function isPortList(v) {
        var s = str(v).trim();
        if (s === "" || isEnvVar(s)) { return true; }
        return s.split(/[\s,]+/).every(function (p) {
            var m = p.match(/^(\d{1,5})(?:[:-](\d{1,5}))?$/);
            if (!m) { return false; }
            var from = Number(m[1]), to = m[2] === undefined ? from : Number(m[2]);
            return from >= 1 && to <= 65535 && from <= to;
        });
    }

    // "name=value, other='a, b'" as in action = iptables[name=SSH, port=ssh] or
    // filter = sshd[mode=aggressive]: values may be quoted to hold commas. Empty is accepted.
    function isOptionList(v) {
        var s = str(v).trim();
        if (s === "") { return true; }
        var re = /\s*[A-Za-z_][\w.-]*\s*=\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,"']*)\s*(?:,|$)/y;
        re.lastIndex = 0;
        while (re.lastIndex < s.length) {
            var before = re.lastIndex;
            if (!re.exec(s) || re.lastIndex === before) { return false; }
        }
        return true;
    }

    function isIPv4(s) {
        var parts = s.split(".");
        return parts.length === 4 && parts.every(function (p) {
            return /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255;
        });
    }

    function isIPv6(s) {
        var tail = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
        if (tail) {
            if (!isIPv4(tail[2])) { return false; }
            s = tail[1] + "0:0";
        }
        var halves = s.split("::");
        if (halves.length > 2) { return false; }
        function groups(x) { return x === "" ? [] : x.split(":"); }
        var all = groups(halves[0]).concat(halves.length === 2 ? groups(halves[1]) : []);
        if (!all.every(function (g) { return /^[0-9a-fA-F]{1,4}$/.test(g); })) { return false; }
        return halves.length === 2 ? all.length <= 7 : all.length === 8;
    }

    function isHostName(s) {
        if (/^[\d.]+$/.test(s)) { return false; } // looks like a broken IPv4 address
        return s.length <= 253 &&
            /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/.test(s);
    }

    // An IP address, a CIDR range (192.168.0.0/16, 2001:db8::/32) or a host name: an ignoreip entry.
    function isAddressRangeOrHost(e) {
        var slash = e.indexOf("/");
        if (slash < 0) { return isIPv4(e) || isIPv6(e) || isHostName(e); }
        var addr = e.slice(0, slash), bits = e.slice(slash + 1);
        if (isIPv4(addr)) {
            return /^\d{1,2}$/.test(bits) && Number(bits) <= 32;
        }
        return isIPv6(addr) && /^\d{1,3}$/.test(bits) && Number(bits) <= 128;
    }

    // An ignoreip validator: addresses, CIDR ranges and host names (or ${NAME}), separated by spaces or
    // commas; the message "errors.ignoreip" names the first bad entry.
    function ignoreList(t) {
        return function (v, opt) {
            var entries = words(v);
            for (var i = 0; i < entries.length; i++) {
                if (!isAddressRangeOrHost(entries[i]) && !isEnvVar(entries[i])) {
                    return opt ? t("errors.ignoreip", { entry: entries[i] }) : false;
                }
            }
            return true;
        };
    }

    return {
        i18n: i18n,
        str: str,
        lines: lines,
        words: words,
        current: current,
        isEnvVar: isEnvVar,
        rule: rule,
        isWholeNumber: isWholeNumber,
        UNIT: UNIT,
        isDuration: isDuration,
        duration: duration,
        isPort: isPort,
        isPortList: isPortList,
        isOptionList: isOptionList,
        isIPv4: isIPv4,
        isIPv6: isIPv6,
        isHostName: isHostName,
        isAddressRangeOrHost: isAddressRangeOrHost,
        ignoreList: ignoreList
    };
})();
