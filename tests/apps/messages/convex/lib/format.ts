export function channelLabel(channel: string): string {
  return `#${channel}`;
}
