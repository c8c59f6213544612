export declare const TEST_IMAGES: Readonly<{
  shell: string;
  staticNonroot: string;
  staticLatest: string;
  baseNosslNonroot: string;
  edge: string;
}>;
export declare const RECIPE_LABEL: string;
