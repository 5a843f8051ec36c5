declare module 'virtual:architectures' {
  const list: { name: string; text: string }[];
  export default list;
}
