"""The support desk: tickets handed from the assistant to people, routed by province, never forgotten."""
