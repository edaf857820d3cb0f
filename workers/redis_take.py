"""Taking several messages off a queue and recording them as unacknowledged in one atomic step.

Needs Redis 6.2 or later (RPOP with a count; the channel's empty-queue wait is a BLMOVE).

Keys (each with the transport's global key prefix, if any):

    KEYS[1]     kombu's unacknowledged hash:  delivery tag -> JSON [message, exchange, routing key]
    KEYS[2]     kombu's unacknowledged index: delivery tag scored by delivery time
    KEYS[3...]  the queue's lists, in kombu's priority order (the order its BRPOP reads them)
    ARGV[1]     how many messages at most
    ARGV[2]     the delivery time (the client's clock, as kombu's own record uses)

Messages are taken from the tail of each list (kombu pushes on the left, BRPOP pops on the
right), so they come out in the order one BRPOP after another would have delivered them. Each
is written into the hash exactly as kombu's `QoS.append` writes it (the message as it lay in the
list, its exchange and routing key) under the delivery tag kombu gave it when it was published,
so kombu's restore path (`restore_by_tag`, the visibility-timeout sweep) reads it back as its
own.

Each list gives what it can in one RPOP with a count. The reply is a status followed by the
messages taken. A message the script cannot record (not JSON, or without a string delivery
tag, exchange or routing key) is put back where it lay, with those popped after it, and the
status says so: the caller takes it through kombu's own path, which fails on it as kombu
does. Nothing between a pop and its record can raise (the decoding is guarded), so no script
stops half-way with a message popped and unrecorded (Redis does not roll a script back).
"""

from __future__ import annotations

import hashlib

TAKEN = 1
LEFT_FOR_KOMBU = 0

TAKE_SCRIPT = """
local limit = tonumber(ARGV[1])
local reply = {1}
for i = 3, #KEYS do
    local wanted = limit - (#reply - 1)
    if wanted <= 0 then break end
    local items = redis.call('RPOP', KEYS[i], wanted)
    for j, item in ipairs(items or {}) do
        local ok, message = pcall(cjson.decode, item)
        local properties = ok and type(message) == 'table' and message.properties
        local info = type(properties) == 'table' and properties.delivery_info
        local tag = type(properties) == 'table' and properties.delivery_tag
        if type(tag) ~= 'string' or type(info) ~= 'table'
                or type(info.exchange) ~= 'string' or type(info.routing_key) ~= 'string' then
            for k = #items, j, -1 do  -- back as they lay: this one last, at the tail
                redis.call('RPUSH', KEYS[i], items[k])
            end
            reply[1] = 0
            return reply
        end
        redis.call('ZADD', KEYS[2], ARGV[2], tag)
        redis.call('HSET', KEYS[1], tag, '[' .. item .. ',' .. cjson.encode(info.exchange) ..
                   ',' .. cjson.encode(info.routing_key) .. ']')
        reply[#reply + 1] = item
    end
end
return reply
"""

TAKE_SHA = hashlib.sha1(TAKE_SCRIPT.encode()).hexdigest()


def take_keys(prefix: str, unacked: str, unacked_index: str, lists: list[str]) -> list[str]:
    """The script's keys, each list once, in the order given."""
    return [prefix + key for key in (unacked, unacked_index, *dict.fromkeys(lists))]


def split_for_room(taken: list[bytes], room: int | None) -> tuple[list[bytes], list[bytes]]:
    """The messages the QoS can take now (all of them when `room` is None: no prefetch limit),
    and the rest, to give back."""
    if room is None:
        return taken, []
    return taken[:room], taken[room:]
