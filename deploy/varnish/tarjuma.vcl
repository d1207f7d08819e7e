# Tarjuma's edge: Varnish 7 in front of the app (Debian: varnish, varnish-modules).
#
# The site file included below is written by the app (`flask --app wsgi edge vcl`) from
# its own configuration: the app nodes and their probe, the purge ACL (`tarjuma_purgers`), the edge TTL and
# grace (`tarjuma_ttl`, `tarjuma_grace`), the canonical Host (`tarjuma_host`), the offered
# locales (`tarjuma_language`) and the query parameters the app reads (`tarjuma_query`).
# This file holds the logic.
#
# What is cached: GET/HEAD under /api/v1/ without Authorization, cookies or `preview`,
# whose response carries `xkey` tags (the app tags exactly its public representations,
# when a fetch asks with `xkey-want`; they are stripped on delivery) and is a 200 or a
# 404. Everything else passes through.
#
# Freshness: every change in the app sends ONE PURGE per edge, after its commit and before
# its response, with the tags it affects (`xkey-purge`) and the essays it touched
# (`xkey-fence`). The PURGE removes the tagged objects and gives each touched essay (and
# every list) a new generation. The generation is part of the object's hash, so a backend
# fetch that started before the commit and ends after the purge lands under the old
# generation, where no later request looks: it is never served as current.
#
# Several app nodes: misses are spread over every node the site file names (a shard
# director, by URL). A read whose fetch fails (refused, reset, timed out, or a 5xx from a
# dying node) is tried again on the next node before any client sees an error
# (`tarjuma_retry`: GET and HEAD only; a write is never sent twice). Only when every node
# has failed does the client get the held copy in grace (vcl_deliver), else the error.
# A node that dies in the middle of a body is caught too: bodies are not streamed to the
# client, so the broken fetch is retried like a refused one rather than ending truncated.
#
# Client addresses: varnishd itself appends client.ip to X-Forwarded-For before vcl_recv
# (on a request's first pass, not on restarts), and the app believes that header only
# from its TRUSTED_PROXIES, walking it from the right (api/proxies.py). Never unset or
# rewrite it here, or every client looks like this edge to the app's limits.
vcl 4.1;

import std;
import var;
import xkey;
import accept;
import str;
import directors;

include "tarjuma-site.vcl";

sub vcl_recv {
    call tarjuma_backend;
    if (req.method == "PURGE") {
        if (client.ip !~ tarjuma_purgers) {
            return (synth(403, "Forbidden"));
        }
        call tarjuma_fence;
        set req.http.xkey-gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.xkey-gone));
    }
    if (req.restarts == 0) {
        # Internal markers are the edge's own, never a client's.
        unset req.http.x-edge-stale;
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.url !~ "^/api/v1/" || req.http.Authorization || req.http.Cookie) {
        return (pass);
    }
    if (req.url ~ "^[^?]*%" || req.url ~ "[?&]preview(=|&|$)") {
        # An encoded path could name an essay under another spelling of its slug; drafts
        # are never public.
        return (pass);
    }
    if (req.url ~ "\?") {
        call tarjuma_query;
    }
    # The app sees the negotiated locale however the client spelt it: the same bodies, and
    # problems in the same language, as a client asking the app directly gets.
    call tarjuma_language;
    # Nothing but the URL and the negotiated locale selects a cached representation.
    call tarjuma_host;
    unset req.http.Forwarded;
    unset req.http.X-Forwarded-Host;
    unset req.http.X-Forwarded-Proto;
    unset req.http.If-Modified-Since;
    if (req.http.x-edge-stale) {
        call tarjuma_grace;
    } else if (std.healthy(req.backend_hint)) {
        # Grace is for an app that is down; while it answers, an expired object is fetched
        # again before anyone gets it.
        set req.grace = 0s;
    }
    return (hash);
}

# Up to 16 essays get a new generation each; the app sends "*" (every essay) for more.
sub tarjuma_fence {
    if (req.http.xkey-fence == "*") {
        var.global_set("gen:*", req.xid);
    } else if (req.http.xkey-fence) {
        if (str.split(req.http.xkey-fence, 1, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 1, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 2, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 2, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 3, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 3, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 4, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 4, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 5, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 5, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 6, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 6, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 7, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 7, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 8, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 8, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 9, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 9, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 10, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 10, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 11, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 11, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 12, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 12, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 13, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 13, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 14, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 14, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 15, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 15, " "), req.xid); }
        if (str.split(req.http.xkey-fence, 16, " ")) { var.global_set("gen:" + str.split(req.http.xkey-fence, 16, " "), req.xid); }
    }
    # Lists, locales and everything not under one essay: a new generation on every change.
    var.global_set("gen:~", req.xid);
}

sub vcl_hash {
    hash_data(req.url);
    if (req.http.Accept-Language && req.url !~ "[?&]locale=") {
        # With ?locale= the header decides nothing (the app sends no Vary on it then).
        hash_data(req.http.Accept-Language);
    }
    hash_data("" + var.global_get("gen:*"));
    if (req.url ~ "^/api/v1/essays/[^/?]") {
        hash_data("" + var.global_get("gen:" + regsub(req.url, "^/api/v1/essays/([^/?]+).*$", "\1")));
    } else {
        hash_data("" + var.global_get("gen:~"));
    }
    return (lookup);
}

sub vcl_backend_fetch {
    call tarjuma_node;
    # The app sends its tags only when asked: clients talking to it directly never see them.
    set bereq.http.xkey-want = "1";
}

sub vcl_backend_response {
    # The whole body before its first byte goes to the client. Streamed, a node killed
    # after its headers left the reader with a truncated body (measured: 1 read in about
    # 10,000 with eight readers and a node SIGKILLed), too late to try another node.
    # Unstreamed, a body that breaks off fails the fetch into vcl_backend_error, which
    # retries it on the next node. The app's bodies are small (an essay: 5 KB), so waiting
    # for the last byte costs next to nothing.
    set beresp.do_stream = false;
    if (beresp.status >= 500) {
        call tarjuma_retry;
    }
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.status >= 500) {
        if (bereq.is_bgfetch) {
            # Keep serving what is held rather than an error.
            return (abandon);
        }
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (!beresp.http.xkey || (beresp.status != 200 && beresp.status != 404)
        || beresp.http.Set-Cookie || beresp.http.Cache-Control ~ "(private|no-store)") {
        set beresp.ttl = 1s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # The edge TTL counts from the start of the fetch, so that no object outlives a change
    # by more than the TTL, even one whose fetch was in flight at the change.
    call tarjuma_ttl;
    set beresp.keep = 0s;
    # Bytes as the app made them: no gzip or gunzip, so ETags stay strong.
    set beresp.do_gzip = false;
    set beresp.do_gunzip = false;
    return (deliver);
}

sub vcl_backend_error {
    call tarjuma_retry;
    if (bereq.is_bgfetch) {
        return (abandon);
    }
}

sub vcl_deliver {
    if (resp.status >= 500 && req.restarts == 0 && !req.http.x-edge-stale
        && (req.method == "GET" || req.method == "HEAD") && req.url ~ "^/api/v1/"
        && !req.http.Authorization && !req.http.Cookie) {
        # The app failed: serve the copy held in grace, if there is one.
        set req.http.x-edge-stale = "1";
        return (restart);
    }
    unset resp.http.xkey;
    unset resp.http.Via;
}

sub vcl_synth {
    unset resp.http.xkey-gone;
    if (req.http.x-edge-stale && resp.status >= 500) {
        set resp.http.Retry-After = "5";
    }
}
