import NIOCore
import ParleyCore
import ParleyIRC

/// How `CoreHost` writes what the core decided: each message encoded once per capability variant, recipients on the
/// current loop written at once, other loops sent one batch each.
extension CoreHost {
    /// Writes grouped by event loop, in order, so each loop gets one hop per handled message.
    struct Batches {
        let current: LoopContext?
        var groups: [(LoopContext, [LoopContext.Item])] = []

        init(current: LoopContext?) {
            self.current = current
            // Items other threads queued for this loop come first, or a direct write below would overtake them.
            current?.drainInbox()
        }

        mutating func append(_ item: LoopContext.Item, for link: SessionLink) {
            if let index = self.groups.firstIndex(where: { $0.0 === link.context }) {
                self.groups[index].1.append(item)
            } else {
                self.groups.append((link.context, [item]))
            }
        }

        func submit() {
            for (context, items) in self.groups { context.submit(contentsOf: items) }
        }
    }

    func carryOut(_ work: Work, into batches: inout Batches) {
        switch work {
        case .send(let message, let links, let caps):
            // One encoding per capability variant, shared (copy-on-write) by every recipient of that variant. Most
            // recipients share the previous one's variant, so that is checked first. Recipients on the current loop
            // are written at once; those on other loops go over as one item per loop and variant.
            var lastVariant: IRCCapabilities?
            var lastIndex = 0
            var encodings: [(IRCCapabilities, ByteBuffer)] = []
            var remote: [(context: LoopContext, encoding: Int, links: ContiguousArray<SessionLink>)] = []
            for index in links.indices {
                let link = links[index]
                let variant = caps[index].intersection(ServerState.encodingCapabilities)
                if variant != lastVariant {
                    if let cached = encodings.firstIndex(where: { $0.0 == variant }) {
                        lastIndex = cached
                    } else {
                        var buffer = link.channel.allocator.buffer(capacity: 256)
                        message.write(to: &buffer) { ServerState.includeTag($0, for: variant) }
                        encodings.append((variant, buffer))
                        lastIndex = encodings.count - 1
                    }
                    lastVariant = variant
                }
                if link.context === batches.current {
                    link.context.write(encodings[lastIndex].1, to: link)
                } else if let group = remote.firstIndex(where: {
                    $0.context === link.context && $0.encoding == lastIndex
                }) {
                    remote[group].links.append(link)
                } else {
                    remote.append((link.context, lastIndex, [link]))
                }
            }
            for group in remote {
                let buffer = encodings[group.encoding].1
                if group.links.count == 1 {
                    batches.append(.write(group.links[0], buffer), for: group.links[0])
                } else {
                    batches.append(.writeMany(buffer, group.links), for: group.links[0])
                }
            }
        case .close(let link, let reason):
            var buffer = link.channel.allocator.buffer(capacity: 64)
            IRCMessage(command: .error, parameters: ["Closing link (\(reason))"]).write(to: &buffer)
            batches.append(.close(link, buffer), for: link)
        case .acknowledgePending, .effect:
            preconditionFailure("effects are started by the order they keep, not carried out with deliveries")
        }
    }
}
