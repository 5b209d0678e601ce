/**
 * The RFC 5952 text of an IPv6 address from its eight 16-bit groups (lower-case hex without leading
 * zeros): the longest run of two or more zero groups becomes '::' (the first such run on a tie), as
 * iproute2, nft and Go's net.IP print addresses.
 */
export function compressIpv6(groups: readonly string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
